"""The frame server: one connection to the camera feed, the newest frame cached, served as
/snapshot.jpg and a fan-out /stream.mjpg, with /healthz for the container's health check."""
