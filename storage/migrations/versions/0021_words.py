"""words: PostgreSQL keeps how many of a tenant's published cases hold each indexed word

Similar-case search ranks in two stages: the query's rarest words choose the candidates, all its
words rank them (storage/search.py). SQLite reads each word's document count from its FTS5 index;
PostgreSQL's only estimate was pg_stats, whose most-common-elements list leaves most words out,
so the rare words could not be told apart and ts_rank scored thousands of candidates.
`case_search_words(tenant_id, lexeme, cases)` holds the exact count, per tenant, of the published
documents in `case_search` that hold each lexeme; the row whose lexeme is '' (no lexeme is empty)
holds the tenant's number of published cases. Triggers on `case_search` keep it, so every write
path (case triggers, imports, edits, deletes by cascade, a migration rewriting the documents,
TRUNCATE) keeps it right; a published document written costs one counter update per distinct
word (~75 for a case, 1-3 ms). The GIN index stops buffering new entries in its pending list:
every search scanned that list whole until a vacuum merged it (a 3-word lookup at 10,000 freshly
written cases: 5 ms in the index, 0.25 ms once merged), and cases are written at a human pace
while searches run on every case page.

SQLite needs nothing: FTS5 counts a word's documents from its own index. The table has no
model (storage.search.UNMODELLED_PREFIXES: its name starts with `case_search`).

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

# The change one row of case_search makes: -1 for each lexeme of the old document, +1 for each of
# the new, when published (OLD is null on INSERT and NEW on DELETE: their rows then add nothing).
# The tenant's '' row is written whenever a published document changes, and first (rows are
# upserted in their sorted order): two transactions writing one tenant's cases queue on it rather
# than deadlock on words locked in different orders; drafts change no count and take no lock.
# A word no published case holds any more loses its row (only the old document's words can).
_PG_COUNT = """
CREATE FUNCTION case_search_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO case_search_words AS w (tenant_id, lexeme, cases)
  SELECT tenant_id, lexeme, sum(delta) FROM (
    SELECT OLD.tenant_id, x, -1 FROM unnest(tsvector_to_array(OLD.document)) x WHERE OLD.published
    UNION ALL SELECT OLD.tenant_id, '', -1 WHERE OLD.published
    UNION ALL SELECT NEW.tenant_id, x, 1 FROM unnest(tsvector_to_array(NEW.document)) x WHERE NEW.published
    UNION ALL SELECT NEW.tenant_id, '', 1 WHERE NEW.published
    UNION ALL SELECT t, '', 0
      FROM (VALUES (OLD.tenant_id, OLD.published), (NEW.tenant_id, NEW.published)) AS v (t, p) WHERE p
  ) AS change (tenant_id, lexeme, delta)
  GROUP BY tenant_id, lexeme
  HAVING sum(delta) <> 0 OR lexeme = ''
  ORDER BY tenant_id, lexeme COLLATE "C"
  ON CONFLICT (tenant_id, lexeme) DO UPDATE SET cases = w.cases + EXCLUDED.cases;
  IF OLD.published THEN
    DELETE FROM case_search_words
    WHERE tenant_id = OLD.tenant_id AND lexeme = ANY (tsvector_to_array(OLD.document)) AND cases = 0;
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
    # Room left on each page: a count is updated in place (HOT, no new index entry), which keeps
    # a bulk import's many updates of the same common words cheap (1,000 cases in one
    # transaction: 2.0 s at fillfactor 50, 4.9 s packed, 0.4 s without counts).
    op.execute(
        "CREATE TABLE case_search_words ("
        'tenant_id integer NOT NULL, lexeme text COLLATE "C" NOT NULL, cases integer NOT NULL, '
        "PRIMARY KEY (tenant_id, lexeme)) WITH (fillfactor = 50)"
    )
    op.execute(_PG_COUNT)
    op.execute(
        "CREATE TRIGGER case_search_count AFTER INSERT OR UPDATE OR DELETE ON case_search "
        "FOR EACH ROW EXECUTE FUNCTION case_search_count()"
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
    op.execute("DROP TABLE IF EXISTS case_search_words")
