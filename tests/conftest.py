# Shared fixtures live in tests/pytest_indgang.py, loaded as a plugin (`-p pytest_indgang` in
# pyproject.toml) so that services/*/tests can use them as well.
