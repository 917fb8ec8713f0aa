"""A USB (UVC) webcam on the wire like `rpicam-vid --listen`: its own MJPEG, never re-encoded."""
