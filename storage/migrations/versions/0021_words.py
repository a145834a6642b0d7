"""words: PostgreSQL keeps how many of a tenant's published cases hold each indexed word

Similar-case search ranks in two stages: the query's rarest words choose the candidates, all its
words rank them (storage/search.py). SQLite reads each word's document count from its FTS5 index;
PostgreSQL's only estimate was pg_stats, whose most-common-elements list leaves most words out,
so the rare words could not be told apart and ts_rank scored thousands of candidates.

`case_search_words(tenant_id, lexeme, cases)` holds the exact count, per tenant, of the published
documents in `case_search` that hold each lexeme; the row whose lexeme is '' (no lexeme is empty)
holds the tenant's number of published cases. Triggers on `case_search` keep it, so every write
path (case triggers, imports, edits, deletes by cascade, a migration rewriting the documents,
TRUNCATE) keeps it right: each write notes the documents it changed in
`case_search_words_pending`, and the transaction's commit adds them up into the counts once.
Counts read inside a writing transaction do not include its own writes yet.

The GIN index stops buffering new entries in its pending list: every search scanned that list
whole until a vacuum merged it (a 3-word lookup at 10,000 freshly written cases: 5 ms in the
index, 0.25 ms once merged), and cases are written at a human pace while searches run on every
case page.

SQLite needs nothing: FTS5 counts a word's documents from its own index. The tables have no
model (storage.search.UNMODELLED_PREFIXES: their names start with `case_search`).

Revision ID: 0021_words
Revises: 0020_similar
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_words"
down_revision: str | Sequence[str] | None = "0020_similar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A write only notes the documents it changes (-1 for the old one, +1 for the new, when
# published; OLD is null on INSERT and NEW on DELETE), and the counts are changed once, at
# commit, by a deferred trigger: an import of 500 cases updates each common word once, not 500
# times (row by row, a 10,000-case import took 4.6 times as long), and the counters are locked
# only while the commit lasts. The trigger fires once a transaction, on its row in
# case_search_words_due; it takes every note of its transaction (other transactions' notes are
# invisible until they commit, and none survives a commit) and upserts the sums in
# (tenant, lexeme) order: any two transactions lock counters in one order, so they never
# deadlock. A word no published case holds any more loses its row; the tenant's '' row stays.
_PG_NOTE = """
CREATE FUNCTION case_search_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.tenant_id = NEW.tenant_id AND OLD.published = NEW.published
     AND OLD.document = NEW.document THEN
    RETURN NULL;
  END IF;
  INSERT INTO case_search_words_pending (tenant_id, document, delta)
  SELECT OLD.tenant_id, OLD.document, -1 WHERE OLD.published
  UNION ALL SELECT NEW.tenant_id, NEW.document, 1 WHERE NEW.published;
  INSERT INTO case_search_words_due (xact) VALUES (txid_current()) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$
"""
_PG_FLUSH = """
CREATE FUNCTION case_search_words_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  zero_tenants integer[];
  zero_lexemes text[];
BEGIN
  WITH noted AS (
    DELETE FROM case_search_words_pending RETURNING tenant_id, document, delta
  ), change (tenant_id, lexeme, delta) AS (
    SELECT tenant_id, x, delta FROM noted, unnest(tsvector_to_array(document)) AS x
    UNION ALL SELECT tenant_id, '', delta FROM noted
  ), bumped AS (
    INSERT INTO case_search_words AS w (tenant_id, lexeme, cases)
    SELECT tenant_id, lexeme, sum(delta) FROM change
    GROUP BY tenant_id, lexeme
    HAVING sum(delta) <> 0 OR lexeme = ''
    ORDER BY tenant_id, lexeme COLLATE "C"
    ON CONFLICT (tenant_id, lexeme) DO UPDATE SET cases = w.cases + EXCLUDED.cases
    RETURNING w.tenant_id, w.lexeme, w.cases
  )
  SELECT array_agg(tenant_id), array_agg(lexeme) INTO zero_tenants, zero_lexemes
  FROM bumped WHERE cases = 0 AND lexeme <> '';
  DELETE FROM case_search_words_due WHERE xact = NEW.xact;
  IF zero_lexemes IS NOT NULL THEN
    DELETE FROM case_search_words w USING unnest(zero_tenants, zero_lexemes) AS z (t, l)
    WHERE w.tenant_id = z.t AND w.lexeme = z.l AND w.cases = 0;
  END IF;
  RETURN NULL;
END
$$
"""

# TRUNCATE fires no row trigger: emptying the index empties the counts with it.
_PG_CLEAR = """
CREATE FUNCTION case_search_uncount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM case_search_words;
  RETURN NULL;
END
$$
"""

_PG_FILL = """
INSERT INTO case_search_words (tenant_id, lexeme, cases)
SELECT tenant_id, lexeme, count(*) FROM (
  SELECT tenant_id, unnest(tsvector_to_array(document)) FROM case_search WHERE published
  UNION ALL SELECT tenant_id, '' FROM case_search WHERE published
) AS held (tenant_id, lexeme)
GROUP BY tenant_id, lexeme
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Room left on each page: a count is updated in place (HOT, no new index entry), and the
    # common words' counts change at nearly every commit.
    op.execute(
        "CREATE TABLE case_search_words ("
        'tenant_id integer NOT NULL, lexeme text COLLATE "C" NOT NULL, cases integer NOT NULL, '
        "PRIMARY KEY (tenant_id, lexeme)) WITH (fillfactor = 50)"
    )
    # Notes, and the transactions they are due at, live only inside the transaction that writes
    # them: nothing in these two tables outlives a commit.
    op.execute(
        "CREATE TABLE case_search_words_pending ("
        "tenant_id integer NOT NULL, document tsvector NOT NULL, delta integer NOT NULL)"
    )
    op.execute(_PG_NOTE)
    op.execute(
        "CREATE TRIGGER case_search_count AFTER INSERT OR UPDATE OR DELETE ON case_search "
        "FOR EACH ROW EXECUTE FUNCTION case_search_count()"
    )
    op.execute("CREATE TABLE case_search_words_due (xact bigint PRIMARY KEY)")
    op.execute(_PG_FLUSH)
    op.execute(
        "CREATE CONSTRAINT TRIGGER case_search_words_flush AFTER INSERT ON case_search_words_due "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION case_search_words_flush()"
    )
    op.execute(_PG_CLEAR)
    op.execute(
        "CREATE TRIGGER case_search_uncount AFTER TRUNCATE ON case_search "
        "FOR EACH STATEMENT EXECUTE FUNCTION case_search_uncount()"
    )
    op.execute(_PG_FILL)
    op.execute("ALTER INDEX case_search_document_gin SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('case_search_document_gin')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX case_search_document_gin RESET (fastupdate)")
    op.execute("DROP TRIGGER IF EXISTS case_search_uncount ON case_search")
    op.execute("DROP FUNCTION IF EXISTS case_search_uncount()")
    op.execute("DROP TRIGGER IF EXISTS case_search_count ON case_search")
    op.execute("DROP FUNCTION IF EXISTS case_search_count()")
    op.execute("DROP TABLE IF EXISTS case_search_words_pending")
    op.execute("DROP TABLE IF EXISTS case_search_words_due")
    op.execute("DROP FUNCTION IF EXISTS case_search_words_flush()")
    op.execute("DROP TABLE IF EXISTS case_search_words")
