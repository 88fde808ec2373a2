"""The wire protocol, sans I/O: codecs, client frame validation, server frame builders.

Nothing here touches a socket or an event loop; tests feed it values (docs/protocol.md).
"""
