"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``."""
import gc

from outreach import create_app

app = create_app()
# What is loaded at start-up (modules, the app, SQLAlchemy's mappers) is never garbage: frozen, it
# is left out of the collector's full passes, which a request reading thousands of rows triggers (at
# 5M contacts the one-year dashboard took 80 ms more on such a pass).
gc.freeze()
