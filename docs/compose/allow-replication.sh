#!/bin/sh
# Run once by the postgres image when it creates the database (docker-compose.yml, db): lets the
# optional db-replica service connect for streaming replication with the same password.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
