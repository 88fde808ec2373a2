"""Uploaded files (issue 13): resumable uploads, the type decided from the bytes, safe names,
previews, quota, access by scope, downloads and the sweeper (docs/protocol.md, "Files")."""
