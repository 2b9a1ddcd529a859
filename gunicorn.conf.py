"""gunicorn reads this file from its working directory by itself (its default ``-c
./gunicorn.conf.py``).

In production it refuses to start several workers with the in-memory rate-limit storage, where
each worker would count login attempts and other limits on its own
(outreach.config.limiter_problem)."""
from outreach.config import ConfigError, limiter_problem, settings_from_env


def on_starting(server):
    problem = limiter_problem(settings_from_env(), server.cfg.workers)
    if problem:
        raise ConfigError(problem)  # gunicorn prints "Error: <message>" and exits with status 1
