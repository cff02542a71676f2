"""AWS X-Ray: one folder for every way spans reach X-Ray."""
