import pytest


@pytest.fixture(autouse=True)
def fast_setup(settings):
    # Argon2 costs ~0.3 s per user; WhiteNoise scans every static file per test client.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_USE_FINDERS = False
