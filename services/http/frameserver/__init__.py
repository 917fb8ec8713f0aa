"""The frame server: one connection to each camera's feed, its newest frame cached, served as
snapshots and a fan-out MJPEG stream at the paths in routes.ROUTES, with /healthz for the health check."""
