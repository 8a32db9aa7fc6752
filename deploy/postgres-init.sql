-- compose.yaml: the desk's database (POSTGRES_DB) is made by the image; Rasa's trackers get a
-- database of their own beside it, named as baken_core/rasa_endpoints.py derives it.
CREATE DATABASE baken_rasa;
