"""A stand-in for `rpicam-vid --listen` that needs no camera: a live test pattern over TCP."""
