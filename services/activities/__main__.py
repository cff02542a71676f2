"""`python -m services.activities`: serve the activities service."""

from services.activities.app import create_app
from services.activities.settings import ActivitiesSettings
from services.common.server import run

if __name__ == "__main__":
    run(ActivitiesSettings, "activities", create_app)
