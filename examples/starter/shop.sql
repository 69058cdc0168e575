-- The Qingyun Notes sample database that examples/starter/dataset.yaml
-- annotates: one table per kind of data the starter policy keeps, each
-- bound to the retention rule that governs it. SQLite; times are ISO 8601
-- text in UTC, as SQLite's date functions read them.
--
--   sqlite3 shop.db < examples/starter/shop.sql
--   SHOP_DSN=file:shop.db custos retention plan --dataset examples/starter/dataset.yaml ...
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    email      TEXT,
    phone      TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE guardian_consents (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    guardian   TEXT,
    granted_at TEXT NOT NULL
);
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    body       TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE note_locations (
    note_id   INTEGER PRIMARY KEY REFERENCES notes(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    latitude  REAL,
    longitude REAL
);
CREATE TABLE relay_cache (
    id        INTEGER PRIMARY KEY,
    user_id   TEXT NOT NULL,
    blob      BLOB,
    cached_at TEXT NOT NULL
);
CREATE TABLE published_notes (
    note_id      INTEGER PRIMARY KEY,
    user_id      TEXT NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TABLE real_name_verifications (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    real_name   TEXT,
    id_number   TEXT,
    result      TEXT,
    verified_at TEXT NOT NULL
);
CREATE TABLE moderation_records (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT,
    excerpt    TEXT,
    decision   TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE orders (
    id           TEXT PRIMARY KEY,
    user_id      TEXT,
    amount_fen   INTEGER,
    payment_ref  TEXT,
    completed_at TEXT NOT NULL
);
CREATE TABLE invoices (
    id        TEXT PRIMARY KEY,
    order_id  TEXT,
    user_id   TEXT,
    title     TEXT,
    tax_id    TEXT,
    issued_at TEXT NOT NULL
);
CREATE TABLE support_tickets (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT,
    email      TEXT,
    body       TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE security_logs (
    id        INTEGER PRIMARY KEY,
    user_id   TEXT,
    ip        TEXT,
    device_id TEXT,
    event     TEXT,
    logged_at TEXT NOT NULL
);
CREATE TABLE crash_reports (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT,
    device_id   TEXT,
    model       TEXT,
    trace       TEXT,
    reported_at TEXT NOT NULL
);
CREATE TABLE analytics_events (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT,
    device_id   TEXT,
    event       TEXT,
    occurred_at TEXT NOT NULL
);
CREATE TABLE marketing_subscriptions (
    user_id       TEXT PRIMARY KEY,
    email         TEXT,
    subscribed_at TEXT NOT NULL
);
CREATE TABLE ad_impressions (
    id       INTEGER PRIMARY KEY,
    user_id  TEXT,
    oaid     TEXT,
    campaign TEXT,
    shown_at TEXT NOT NULL
);
CREATE TABLE push_tokens (
    id      INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    token   TEXT,
    model   TEXT
);
CREATE TABLE compliance_records (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT,
    kind        TEXT,
    recorded_at TEXT NOT NULL
);
CREATE TABLE rights_requests (
    id          TEXT PRIMARY KEY,
    user_id     TEXT,
    email       TEXT,
    kind        TEXT,
    received_at TEXT NOT NULL
);

INSERT INTO users VALUES ('u-1', 'li.lei@example.com', '+8613800000001', '2023-01-10 08:00:00');
INSERT INTO users VALUES ('u-2', 'han.meimei@example.com', '+8613800000002', '2025-03-02 09:30:00');
INSERT INTO notes VALUES (1, 'u-1', 'shopping list', '2023-01-11 10:00:00');
INSERT INTO note_locations VALUES (1, 'u-1', 31.23, 121.47);
INSERT INTO relay_cache VALUES (1, 'u-1', x'00', '2020-01-01 00:00:00');
INSERT INTO relay_cache VALUES (2, 'u-2', x'01', '2099-01-01 00:00:00');
INSERT INTO orders VALUES ('o-1', 'u-1', 1800, 'pay-1', '2021-05-01 12:00:00');
INSERT INTO orders VALUES ('o-2', 'u-2', 2600, 'pay-2', '2025-05-01 12:00:00');
INSERT INTO invoices VALUES ('i-1', 'o-1', 'u-1', 'Li Lei', '91310000', '2021-05-02 12:00:00');
INSERT INTO support_tickets VALUES (1, 'u-1', 'li.lei@example.com', 'cannot sync', '2022-02-01 09:00:00');
INSERT INTO support_tickets VALUES (2, 'u-2', 'han.meimei@example.com', 'invoice?', '2025-06-01 09:00:00');
INSERT INTO security_logs VALUES (1, 'u-1', '203.0.113.7', 'dev-1', 'login', '2023-02-01 00:00:00');
INSERT INTO crash_reports VALUES (1, 'u-1', 'dev-1', 'P60', 'nil deref', '2023-02-01 00:00:00');
INSERT INTO analytics_events VALUES (1, 'u-1', 'dev-1', 'open_note', '2023-02-14 18:20:00');
INSERT INTO analytics_events VALUES (2, 'u-2', 'dev-2', 'open_note', '2099-02-14 18:20:00');
INSERT INTO marketing_subscriptions VALUES ('u-2', 'han.meimei@example.com', '2025-03-02 09:31:00');
INSERT INTO ad_impressions VALUES (1, 'u-1', 'oaid-1', 'spring', '2023-03-01 00:00:00');
INSERT INTO push_tokens VALUES (1, 'u-2', 'tok-2', 'Mate 60');
INSERT INTO compliance_records VALUES (1, 'u-1', 'export_filing', '2020-01-01 00:00:00');
INSERT INTO rights_requests VALUES ('rq-1', 'u-1', 'li.lei@example.com', 'access', '2022-01-01 00:00:00');
