"""Plumbing every service of the appliance shares, so that the services read as one family.

Modules, one idea each: `envparse` (typed settings, `Env`, `load_or_exit`), `log` (one line per
event to stdout), `backoff` (the one retry policy), `statelog` (a line when a state changes, and
runs of repeated failures), `throttle` (many keyed repeats), `textresponse` (one-line text/plain
and JSON WSGI responses), `unixhttp` (http.client to a unix socket), `cameras` (the camera
slots 1 to 4 and their defaults).

The shape of a service `x`:

- `x/config.py`: a frozen record `Config` and `load(environ) -> Config` that reads every
  setting through one `Env(environ)`; each default lives here only, and an empty value counts as
  unset. Nothing else in the service reads `os.environ`.
- `x/__main__.py`: `log = appliance.log.setup("x")`, then
  `config = load_or_exit("x", load, os.environ)` (a bad setting: one line naming the variable,
  exit 78, and `run-service` holds the container), one start line with the effective settings
  (secrets as their last 4 characters), then run; `sys.exit(main())`.
- Logs: one line per event through the logger `setup` returned; a steady state logs nothing more
  (`statelog`, `throttle`). A loop that must live catches any exception, logs it once with its
  traceback, backs off (`backoff`) and goes on; otherwise the process exits and Docker restarts it.
"""
