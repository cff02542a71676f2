"""`python -m services.gateway`: serve the public API."""

from services.common.server import run
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings

if __name__ == "__main__":
    run(GatewaySettings, "gateway", create_app)
