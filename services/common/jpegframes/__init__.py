"""JPEG byte-level tools shared by the appliance's services: no sockets, no HTTP, no decoding."""
