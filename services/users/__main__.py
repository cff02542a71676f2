"""`python -m services.users`: serve the users service."""

from services.common.server import run
from services.users.app import create_app
from services.users.settings import UsersSettings

if __name__ == "__main__":
    run(UsersSettings, "users", create_app)
