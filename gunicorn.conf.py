"""gunicorn's settings for this project, read from the working directory by every server started
here (the deployment's systemd unit, the CI's production smoke and two-server runs, the
benchmarks); the command line still gives the workers and the address.

gunicorn 27 opens a control socket in the user's home (~/.gunicorn/gunicorn.ctl) for managing a
running server. Two servers of one user on one machine — two web servers behind one database,
or a benchmark's servers side by side — would fight over that one path and the second logs a
control-server error at start. Nothing here manages servers through it (systemd restarts them),
so it stays closed."""

control_socket_disable = True
