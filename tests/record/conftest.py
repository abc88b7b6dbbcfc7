from recordharness import env_fixture  # noqa: F401
