-- Six INSERTs in one transaction: the rows one purchase writes (event, purchase, its event, journal, two entries).
BEGIN;
INSERT INTO commit_probe (payload) VALUES ('event');
INSERT INTO commit_probe (payload) VALUES ('purchase');
INSERT INTO commit_probe (payload) VALUES ('purchase_event');
INSERT INTO commit_probe (payload) VALUES ('journal');
INSERT INTO commit_probe (payload) VALUES ('entry1');
INSERT INTO commit_probe (payload) VALUES ('entry2');
COMMIT;
