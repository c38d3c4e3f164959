"""The development OpenID provider: sign-in for `make run` and the tests, never for production."""

__version__ = "0.1.0"
