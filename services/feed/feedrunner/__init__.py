"""The feed container's entrypoint: picks the camera and keeps it running."""
