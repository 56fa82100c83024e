-- One single-row INSERT per transaction (autocommit): the commit rate of intake-shaped writes. docs/benchmarks.md.
INSERT INTO commit_probe (payload) VALUES ('x');
