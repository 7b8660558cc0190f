-- Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d),
-- as POSTGRES_USER, who then owns these databases: one per service, one for the gateway.
-- Each component migrates its own database (Alembic) when it starts.
CREATE DATABASE campaign;
CREATE DATABASE lead;
CREATE DATABASE assignment;
CREATE DATABASE reporting;
CREATE DATABASE gateway;
