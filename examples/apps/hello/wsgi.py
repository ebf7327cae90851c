"""WSGI entry point: uWSGI loads wsgi:application."""

from myflask import application

if __name__ == "__main__":
    application.run()
