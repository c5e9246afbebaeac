#!/bin/sh
# Runs once, when the postgres service starts on an empty data volume (the image's
# /docker-entrypoint-initdb.d): one role per user of the server, each with its own password.
#   temporal   creates and owns Temporal's two databases (temporal, temporal_visibility); the
#              temporal-schema service makes them with temporal-sql-tool
#   petitions  owns the register (database petitions); `petitiond migrate` makes its tables
# Changing a password later is done in PostgreSQL (ALTER ROLE … PASSWORD …) and in deploy/.env.
set -eu
: "${TEMPORAL_DB_PASSWORD:?}" "${PETITIONS_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set temporal_pw="$TEMPORAL_DB_PASSWORD" --set petitions_pw="$PETITIONS_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
CREATE ROLE petitions LOGIN PASSWORD :'petitions_pw';
CREATE DATABASE petitions OWNER petitions;
SQL
