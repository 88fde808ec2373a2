"""Where uploaded files' bytes live: the BlobStore port and its backends (a local folder, any
S3-compatible object store). Only chat/blobs/s3.py imports the S3 client."""
