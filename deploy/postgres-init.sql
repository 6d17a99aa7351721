-- Each service owns its own database.
CREATE DATABASE ordering;
CREATE DATABASE billing;
