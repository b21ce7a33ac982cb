"""Entry point for `flask --app run` and gunicorn (`gunicorn 'run:app'`): it only builds the app."""

from app import create_app

app = create_app()
