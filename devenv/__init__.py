"""The local development environment: services on 127.0.0.1, tables and buckets."""
