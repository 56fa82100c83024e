"""The PostgreSQL database a benchmark runs in: DATABASE_URL parsed once, created when missing.

Shared by bench/webhooks.py and bench/e2e.py (each sets its own default DATABASE_URL first).
"""

import os
import sys

import environ
import psycopg
from psycopg import sql


def database_config() -> dict:
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    return config


def conninfo(config: dict, dbname: str | None = None) -> str:
    parts = {
        "dbname": dbname or config["NAME"],
        "host": config.get("HOST") or "127.0.0.1",
        "port": str(config.get("PORT") or 5432),
        "user": config.get("USER") or "postgres",
    }
    if config.get("PASSWORD"):
        parts["password"] = config["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items())


def ensure_database(config: dict) -> None:
    with psycopg.connect(conninfo(config, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")
