"""In-process tests: the three real apps wired together in one process over ASGI transports.

Between the unit tests (one piece, in tests/unit/) and the end-to-end ones (real processes, in
tests/e2e/): no process or socket, but every hop, lifespan and middleware of the real chain.
"""
