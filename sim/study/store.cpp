#include "sim/study/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "sim/io/config.h"
#include "sim/io/report.h"

namespace canarysim {

namespace {

// Turns SQLite's last error on `db` into an exception. A damaged or unreadable file is
// the user's input (InputError, naming the file and what can still be done); anything
// else is a bug here (std::runtime_error).
[[noreturn]] void fail(sqlite3* db, const std::string& message, const std::string& sql) {
  const int code = sqlite3_errcode(db) & 0xff;
  const char* name = sqlite3_db_filename(db, "main");
  std::string file = name && *name ? name : "the results store";
  if (file.size() > 5 && file.compare(file.size() - 5, 5, ".part") == 0) file.resize(file.size() - 5);
  const std::string recover =
      "run the sweep again with a new --db (for a shard, run that shard again with a new --db, then merge the "
      "shards)";
  if (code == SQLITE_NOTADB)
    throw InputError(file + ": not a canarysim results store, or a damaged one (SQLite: " + message +
                     "); if it was a store, its runs cannot be read: " + recover);
  if (code == SQLITE_CORRUPT)
    throw InputError(file + ": damaged results store (SQLite: " + message + "); its runs cannot be trusted: " +
                     recover);
  if (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_READONLY || code == SQLITE_CANTOPEN ||
      code == SQLITE_PERM)
    throw InputError(file + ": cannot be read or written (SQLite: " + message +
                     "): check the disk and the file's permissions; --resume completes the store later");
  throw std::runtime_error("SQLite: " + message + " in: " + sql.substr(0, 200));
}

// A prepared statement; bind() takes 1-based positions as SQLite does.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) fail(db, sqlite3_errmsg(db), sql);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // NaN (a quantity that does not apply) is stored as NULL.
  void bind(int i, double v) { std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v); }
  void bind(int i, uint64_t v) { sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v)); }
  void bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  // True while rows come; throws on errors (a duplicate key among them).
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, sqlite3_errmsg(db_), sqlite3_sql(stmt_));
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  double real(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL ? RunResult::kNaN : sqlite3_column_double(stmt_, c); }
  uint64_t integer(int c) const { return static_cast<uint64_t>(sqlite3_column_int64(stmt_, c)); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c)) : std::string();
  }
  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  bool is_text(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_TEXT; }
  int columns() const { return sqlite3_column_count(stmt_); }
  std::string name(int c) const { return sqlite3_column_name(stmt_, c); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    fail(db, message, sql);
  }
}

// Runs `body` in one write transaction: all of it is committed, or none of it.
template <class Body>
void transaction(sqlite3* db, Body&& body) {
  exec(db, "BEGIN IMMEDIATE");
  try {
    body();
  } catch (...) {
    exec(db, "ROLLBACK");
    throw;
  }
  exec(db, "COMMIT");
}

constexpr const char* kRunColumns =
    "point, run, outcome, regression_active, decision_time_s, detection_time_s, time_to_mitigate_s, "
    "blast_radius_requests, blast_radius_users, rollout_duration_s, requests, canary_requests, events, "
    "baseline_replica_seconds, canary_replica_seconds, baseline_tokens, canary_tokens, baseline_cost, "
    "canary_cost, reason, segment_blast_requests, segment_blast_users, before_evidence, failed_requests, "
    "gpu_hours, baseline_failed_requests, canary_failed_requests, timed_out_requests, rejected_requests, "
    "abandoned_requests, preemptions";

constexpr const char* kSchema = R"sql(
CREATE TABLE manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE fields (position INTEGER PRIMARY KEY, field TEXT NOT NULL);
CREATE TABLE points (point INTEGER PRIMARY KEY, label TEXT NOT NULL, scenario TEXT NOT NULL,
                     policy TEXT NOT NULL);
CREATE TABLE point_values (point INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
                           number REAL, PRIMARY KEY (point, field)) WITHOUT ROWID;
CREATE TABLE runs (
  point INTEGER NOT NULL, run INTEGER NOT NULL, outcome TEXT NOT NULL,
  regression_active INTEGER NOT NULL, decision_time_s REAL, detection_time_s REAL,
  time_to_mitigate_s REAL, blast_radius_requests INTEGER NOT NULL,
  blast_radius_users INTEGER NOT NULL, rollout_duration_s REAL, requests INTEGER NOT NULL,
  canary_requests INTEGER NOT NULL, events INTEGER NOT NULL, baseline_replica_seconds REAL,
  canary_replica_seconds REAL, baseline_tokens INTEGER NOT NULL, canary_tokens INTEGER NOT NULL,
  baseline_cost REAL, canary_cost REAL, reason TEXT NOT NULL,
  segment_blast_requests TEXT NOT NULL, segment_blast_users TEXT NOT NULL,
  before_evidence INTEGER NOT NULL, failed_requests INTEGER NOT NULL, gpu_hours REAL,
  baseline_failed_requests INTEGER NOT NULL, canary_failed_requests INTEGER NOT NULL,
  timed_out_requests INTEGER NOT NULL, rejected_requests INTEGER NOT NULL,
  abandoned_requests INTEGER NOT NULL, preemptions INTEGER NOT NULL,
  PRIMARY KEY (point, run)) WITHOUT ROWID;
)sql";

std::string join_numbers(const std::vector<uint64_t>& v) {
  std::string out;
  for (uint64_t x : v) out += (out.empty() ? "" : " ") + std::to_string(x);
  return out;
}

std::vector<uint64_t> split_numbers(const std::string& s) {
  std::vector<uint64_t> out;
  std::istringstream in(s);
  for (uint64_t x; in >> x;) out.push_back(x);
  return out;
}

Outcome outcome_of(const std::string& name) {
  for (Outcome o : {Outcome::kPromoted, Outcome::kRolledBack, Outcome::kUnfinished})
    if (name == outcome_name(o)) return o;
  throw std::runtime_error("unknown outcome '" + name + "' in a results store");
}

// The number a swept value reads as: a plain number, a duration in seconds, a fraction
// (2% is 0.02) or a rate per second; NaN when it is none of these (a list, a name).
double number_of(const std::string& value) {
  if (auto f = parse_fraction(value)) return *f;
  if (auto d = parse_duration(value)) return *d;
  if (auto r = parse_rate(value)) return *r;
  return RunResult::kNaN;
}

}  // namespace

struct ResultStore::Impl {
  sqlite3* db = nullptr;
  std::string path;
  Manifest manifest;
  ~Impl() { sqlite3_close(db); }
};

namespace {

std::unique_ptr<ResultStore::Impl> open_db(const std::string& path, bool create) {
  auto impl = std::make_unique<ResultStore::Impl>();
  impl->path = path;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK)
    throw InputError(path + ": cannot be " + (create ? "created" : "opened") + ": " + sqlite3_errmsg(impl->db));
  sqlite3_busy_timeout(impl->db, 10000);
  // WAL: a commit is one append to the log; FULL: it is on disk when commit returns.
  exec(impl->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  return impl;
}

const std::vector<std::pair<std::string, std::string Manifest::*>> kTextKeys = {
    {"name", &Manifest::name},
    {"sweep_file", &Manifest::sweep_file},
    {"sweep", &Manifest::sweep_text},
    {"scenario", &Manifest::scenario_text},
    {"policy", &Manifest::policy_text},
    {"canarysim_version", &Manifest::version},
    {"command_line", &Manifest::command_line},
    {"fingerprint", &Manifest::fingerprint}};
const std::vector<std::pair<std::string, uint64_t Manifest::*>> kNumberKeys = {
    {"seed", &Manifest::seed}, {"runs", &Manifest::runs}, {"points", &Manifest::points},
    {"shard", &Manifest::shard}, {"shards", &Manifest::shards}};

void write_manifest(sqlite3* db, const Manifest& m) {
  Statement put(db, "INSERT OR REPLACE INTO manifest (key, value) VALUES (?, ?)");
  for (const auto& [key, field] : kTextKeys) {
    put.bind(1, key);
    put.bind(2, m.*field);
    put.step();
    put.reset();
  }
  for (const auto& [key, field] : kNumberKeys) {
    put.bind(1, key);
    put.bind(2, std::to_string(m.*field));
    put.step();
    put.reset();
  }
}

Manifest read_manifest(sqlite3* db, const std::string& path) {
  std::map<std::string, std::string> kv;
  try {
    Statement get(db, "SELECT key, value FROM manifest");
    while (get.step()) kv[get.text(0)] = get.text(1);
  } catch (const std::runtime_error&) {
    throw InputError(path + ": not a canarysim results store (no manifest table)");
  }
  Manifest m;
  for (const auto& [key, field] : kTextKeys) {
    const auto it = kv.find(key);
    if (it == kv.end()) throw InputError(path + ": not a canarysim results store (manifest lacks '" + key + "')");
    m.*field = it->second;
  }
  for (const auto& [key, field] : kNumberKeys) {
    const auto it = kv.find(key);
    if (it == kv.end()) throw InputError(path + ": not a canarysim results store (manifest lacks '" + key + "')");
    const std::string& v = it->second;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), m.*field);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
      throw InputError(path + ": not a canarysim results store (manifest '" + key + "' is '" + v.substr(0, 40) +
                       "', not a whole number)");
  }
  return m;
}

// The column names of a table, in order.
std::vector<std::string> table_columns(sqlite3* db, const std::string& table) {
  std::vector<std::string> out;
  Statement s(db, "SELECT name FROM pragma_table_info('" + table + "')");
  while (s.step()) out.push_back(s.text(0));
  return out;
}

void create_summaries_table(sqlite3* db) {
  // Summaries are recomputed from the runs: a table from an older layout is dropped.
  const std::vector<std::string> have = table_columns(db, "summaries");
  std::vector<std::string> want = {"point"};
  for (const std::string& c : summary_field_names()) want.push_back(c);
  if (!have.empty() && have != want) exec(db, "DROP TABLE summaries");
  std::string sql = "CREATE TABLE IF NOT EXISTS summaries (point INTEGER PRIMARY KEY";
  for (const std::string& c : summary_field_names()) sql += ", " + c + " REAL";
  exec(db, sql + ")");
}

// Makes a new store at `path`: the schema and the manifest, then `fill` (which runs its
// own transactions). Built under a temporary name and renamed into place, so that a
// crash while building leaves no half-made store for --resume or merge to trip on.
template <class Fill, class Finish>
void build_store(const std::string& path, const Manifest& manifest, Fill&& fill, Finish&& finish) {
  const std::string tmp = path + ".part";
  std::error_code ignored;  // a file that cannot be removed shows up when it is opened
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(tmp + ext, ignored);
  {
    auto impl = open_db(tmp, true);
    exec(impl->db, "BEGIN");
    exec(impl->db, kSchema);
    create_summaries_table(impl->db);
    write_manifest(impl->db, manifest);
    exec(impl->db, "COMMIT");
    fill(impl->db);
  }
  finish(tmp);
  {
    auto impl = open_db(tmp, false);
    exec(impl->db, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  // A -wal or -shm left at the final name by a deleted store would be replayed into
  // this one when it is next opened: they belong to nothing now.
  for (const char* ext : {"-wal", "-shm"}) {
    std::filesystem::remove(tmp + ext, ignored);
    std::filesystem::remove(path + ext, ignored);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw InputError(path + ": cannot be written (" + ec.message() + "); the results are in " + tmp);
}

}  // namespace

ResultStore::ResultStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultStore::~ResultStore() = default;

std::unique_ptr<ResultStore> ResultStore::create(const std::string& path, const Manifest& manifest,
                                                 const std::vector<std::string>& fields,
                                                 const std::vector<PointRecord>& points) {
  if (file_exists(path))
    throw InputError(path + ": already exists; pass --resume to complete it, or remove it to start again");
  build_store(path, manifest, [&](sqlite3* db) {
    transaction(db, [&] {
      Statement f(db, "INSERT INTO fields (position, field) VALUES (?, ?)");
      for (size_t i = 0; i < fields.size(); ++i) {
        f.bind(1, uint64_t{i});
        f.bind(2, fields[i]);
        f.step();
        f.reset();
      }
      Statement p(db, "INSERT INTO points (point, label, scenario, policy) VALUES (?, ?, ?, ?)");
      Statement v(db, "INSERT INTO point_values (point, field, value, number) VALUES (?, ?, ?, ?)");
      for (size_t i = 0; i < points.size(); ++i) {
        p.bind(1, uint64_t{i});
        p.bind(2, points[i].label);
        p.bind(3, points[i].scenario_yaml);
        p.bind(4, points[i].policy_yaml);
        p.step();
        p.reset();
        for (size_t k = 0; k < fields.size(); ++k) {
          v.bind(1, uint64_t{i});
          v.bind(2, fields[k]);
          v.bind(3, points[i].values[k]);
          v.bind(4, number_of(points[i].values[k]));
          v.step();
          v.reset();
        }
      }
    });
  }, [](const std::string&) {});
  return open(path);
}

std::unique_ptr<ResultStore> ResultStore::open(const std::string& path) {
  if (!file_exists(path)) throw MissingFileError(path + ": no such results store");
  auto impl = open_db(path, false);
  impl->manifest = read_manifest(impl->db, path);
  // A store from an older canarysim lacks columns this one writes and reads: refuse it by
  // name rather than fail on the first query.
  const std::vector<std::string> have = table_columns(impl->db, "runs");
  std::string missing;
  std::istringstream wanted(kRunColumns);
  for (std::string c; std::getline(wanted, c, ',');) {
    c.erase(0, c.find_first_not_of(' '));
    if (std::find(have.begin(), have.end(), c) == have.end()) missing += (missing.empty() ? "" : ", ") + c;
  }
  if (!missing.empty())
    throw InputError(path + ": a results store written by canarysim " + impl->manifest.version +
                     ", whose runs table lacks columns this version records (" + missing +
                     "); run the sweep again into a new store");
  create_summaries_table(impl->db);
  return std::unique_ptr<ResultStore>(new ResultStore(std::move(impl)));
}

const Manifest& ResultStore::manifest() const { return impl_->manifest; }

uint64_t ResultStore::summary_count() const {
  Statement count(impl_->db, "SELECT COUNT(*) FROM summaries");
  count.step();
  return count.integer(0);
}
const std::string& ResultStore::path() const { return impl_->path; }

std::vector<std::pair<uint64_t, uint64_t>> ResultStore::finished() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  Statement s(impl_->db, "SELECT point, run FROM runs ORDER BY point, run");
  while (s.step()) out.emplace_back(s.integer(0), s.integer(1));
  return out;
}

void ResultStore::insert(const std::vector<std::pair<uint64_t, RunResult>>& batch) {
  transaction(impl_->db, [&] {
    Statement s(impl_->db, std::string("INSERT INTO runs (") + kRunColumns +
                               ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& [point, r] : batch) {
      int i = 0;
      s.bind(++i, point);
      s.bind(++i, r.run);
      s.bind(++i, std::string(outcome_name(r.outcome)));
      s.bind(++i, uint64_t{r.regression_active});
      for (double x : {r.decision_time_s, r.detection_time_s, r.time_to_mitigate_s}) s.bind(++i, x);
      s.bind(++i, r.blast_radius_requests);
      s.bind(++i, r.blast_radius_users);
      s.bind(++i, r.rollout_duration_s);
      for (uint64_t x : {r.requests, r.canary_requests, r.events}) s.bind(++i, x);
      s.bind(++i, r.baseline_replica_seconds);
      s.bind(++i, r.canary_replica_seconds);
      s.bind(++i, r.baseline_tokens);
      s.bind(++i, r.canary_tokens);
      s.bind(++i, r.baseline_cost);
      s.bind(++i, r.canary_cost);
      s.bind(++i, r.reason);
      s.bind(++i, join_numbers(r.segment_blast_requests));
      s.bind(++i, join_numbers(r.segment_blast_users));
      s.bind(++i, uint64_t{r.before_evidence});
      s.bind(++i, r.failed_requests);
      s.bind(++i, r.gpu_hours);
      for (const RunCount& c : kRunCounts) s.bind(++i, r.*(c.field));
      s.step();
      s.reset();
    }
  });
}

std::vector<std::string> ResultStore::point_labels() const {
  std::vector<std::string> out;
  Statement s(impl_->db, "SELECT label FROM points ORDER BY point");
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::vector<RunResult> ResultStore::point_runs(uint64_t point) const {
  std::vector<RunResult> out;
  Statement s(impl_->db, std::string("SELECT ") + kRunColumns + " FROM runs WHERE point = ? ORDER BY run");
  s.bind(1, point);
  while (s.step()) {
    RunResult r;
    int i = 1;
    r.run = s.integer(i++);
    r.outcome = outcome_of(s.text(i++));
    r.regression_active = s.integer(i++) != 0;
    r.decision_time_s = s.real(i++);
    r.detection_time_s = s.real(i++);
    r.time_to_mitigate_s = s.real(i++);
    r.blast_radius_requests = s.integer(i++);
    r.blast_radius_users = s.integer(i++);
    r.rollout_duration_s = s.real(i++);
    r.requests = s.integer(i++);
    r.canary_requests = s.integer(i++);
    r.events = s.integer(i++);
    r.baseline_replica_seconds = s.real(i++);
    r.canary_replica_seconds = s.real(i++);
    r.baseline_tokens = s.integer(i++);
    r.canary_tokens = s.integer(i++);
    r.baseline_cost = s.real(i++);
    r.canary_cost = s.real(i++);
    r.reason = s.text(i++);
    r.segment_blast_requests = split_numbers(s.text(i++));
    r.segment_blast_users = split_numbers(s.text(i++));
    r.before_evidence = s.integer(i++) != 0;
    r.failed_requests = s.integer(i++);
    r.gpu_hours = s.real(i++);
    for (const RunCount& c : kRunCounts) r.*(c.field) = s.integer(i++);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Summary> ResultStore::write_summaries() {
  const Manifest& m = impl_->manifest;
  const std::vector<std::string> columns = summary_field_names();
  std::string sql = "INSERT OR REPLACE INTO summaries (point";
  for (const std::string& c : columns) sql += ", " + c;
  sql += ") VALUES (?";
  for (size_t i = 0; i < columns.size(); ++i) sql += ", ?";
  sql += ")";
  std::vector<Summary> summaries;
  transaction(impl_->db, [&] {
    Statement put(impl_->db, sql);
    for (uint64_t p = 0; p < m.points; ++p) {
      const std::vector<RunResult> runs = point_runs(p);
      summaries.push_back(summarize(runs));
      if (runs.size() != m.runs) continue;  // a shard's share, or unfinished
      put.bind(1, p);
      int i = 1;
      for (double x : summary_field_values(summaries.back())) put.bind(++i, x);
      put.step();
      put.reset();
    }
  });
  return summaries;
}

void merge_stores(const std::string& out, const std::vector<std::string>& shard_paths,
                  const std::string& command_line) {
  if (shard_paths.empty()) throw InputError("merge: no shard files given");
  std::vector<std::unique_ptr<ResultStore>> shards;
  for (const std::string& p : shard_paths) shards.push_back(ResultStore::open(p));
  const Manifest& first = shards[0]->manifest();
  std::map<uint64_t, std::string> seen;  // shard K -> file
  for (size_t i = 0; i < shards.size(); ++i) {
    const Manifest& m = shards[i]->manifest();
    const std::string& p = shard_paths[i];
    if (m.version != first.version)
      throw InputError(p + ": written by canarysim " + m.version + ", but " + shard_paths[0] + " by " +
                       first.version + "; shards must come from one version");
    if (m.fingerprint != first.fingerprint)
      throw InputError(p + ": from a different sweep than " + shard_paths[0] + " (sweep '" + m.name +
                       "' with fingerprint " + m.fingerprint + ", not '" + first.name + "' with " +
                       first.fingerprint + ")");
    if (m.shards != first.shards)
      throw InputError(p + ": shard " + std::to_string(m.shard) + "/" + std::to_string(m.shards) + " of a " +
                       std::to_string(m.shards) + "-way split, but " + shard_paths[0] + " is of a " +
                       std::to_string(first.shards) + "-way split");
    if (const auto [it, fresh] = seen.emplace(m.shard, p); !fresh)
      throw InputError(p + ": overlaps " + it->second + " (both hold shard " + std::to_string(m.shard) + "/" +
                       std::to_string(m.shards) + ")");
  }
  std::string missing;
  for (uint64_t k = 1; k <= first.shards; ++k)
    if (!seen.count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(first.shards);
  if (!missing.empty()) throw InputError("merge: missing shard " + missing + " of sweep '" + first.name + "'");
  for (size_t i = 0; i < shards.size(); ++i) {
    const Manifest& m = shards[i]->manifest();
    uint64_t expected = 0;
    for (uint64_t p = 0; p < m.points; ++p)
      for (uint64_t r = 0; r < m.runs; ++r) expected += in_shard(p, r, m.runs, m.shard, m.shards);
    const auto done = shards[i]->finished();
    for (const auto& [p, r] : done)
      if (p >= m.points || r >= m.runs || !in_shard(p, r, m.runs, m.shard, m.shards))
        throw InputError(shard_paths[i] + ": holds run " + std::to_string(r) + " of point " + std::to_string(p) +
                         ", which is not in shard " + std::to_string(m.shard) + "/" + std::to_string(m.shards));
    if (done.size() != expected)
      throw InputError(shard_paths[i] + ": incomplete: " + std::to_string(done.size()) + " of " +
                       std::to_string(expected) + " runs; complete it with `canarysim sweep ... --shard " +
                       std::to_string(m.shard) + "/" + std::to_string(m.shards) + " --resume` first");
  }

  // The merged store is a copy of the first shard's tables with every shard's runs.
  Manifest merged = first;
  merged.shard = merged.shards = 1;
  merged.command_line = command_line;
  if (file_exists(out)) throw InputError(out + ": already exists; remove it or choose another name");
  build_store(out, merged, [&](sqlite3* db) {
    for (size_t i = 0; i < shard_paths.size(); ++i) {
      try {
        Statement attach(db, "ATTACH DATABASE ? AS shard");
        attach.bind(1, shard_paths[i]);
        attach.step();
        transaction(db, [&] {
          if (i == 0) {
            exec(db, "INSERT INTO fields SELECT * FROM shard.fields; "
                     "INSERT INTO points SELECT * FROM shard.points; "
                     "INSERT INTO point_values SELECT * FROM shard.point_values;");
          }
          exec(db, std::string("INSERT INTO runs (") + kRunColumns + ") SELECT " + kRunColumns + " FROM shard.runs");
        });
        exec(db, "DETACH DATABASE shard");
      } catch (const InputError& e) {
        throw InputError(shard_paths[i] + ": cannot be merged, damaged or unreadable; run that shard again with a "
                         "new --db, then merge (" + std::string(e.what()) + ")");
      }
    }
  }, [](const std::string& tmp) {
    // Summaries before the rename: a merged store in place is always complete.
    ResultStore::open(tmp)->write_summaries();
  });
}

namespace {

struct Cell {
  enum { kNull, kNumber, kText } kind = kNull;
  double number = 0;
  std::string text;
};

std::pair<std::vector<std::string>, std::vector<std::vector<Cell>>> query(sqlite3* db, const std::string& sql) {
  Statement s(db, sql);
  std::vector<std::string> names;
  for (int c = 0; c < s.columns(); ++c) names.push_back(s.name(c));
  std::vector<std::vector<Cell>> rows;
  while (s.step()) {
    std::vector<Cell> row(names.size());
    for (int c = 0; c < s.columns(); ++c) {
      if (s.is_null(c)) continue;
      if (s.is_text(c)) row[c].kind = Cell::kText, row[c].text = s.text(c);
      else row[c].kind = Cell::kNumber, row[c].number = s.real(c);
    }
    rows.push_back(std::move(row));
  }
  return {names, rows};
}

// Text quoted only where CSV needs it, so that headers and plain values read plainly.
std::string csv_cell(const Cell& c) {
  if (c.kind == Cell::kNull) return "";
  if (c.kind == Cell::kNumber) return json_number(c.number);
  return c.text.find_first_of(",\"\n") == std::string::npos ? c.text : csv_quote(c.text);
}

}  // namespace

void ResultStore::write_table(const std::string& table, const std::string& format, std::ostream& out) const {
  // The swept fields as columns: the value as a number where it reads as one.
  std::string fields;
  {
    Statement f(impl_->db, "SELECT field FROM fields ORDER BY position");
    while (f.step()) {
      const std::string name = f.text(0);
      Statement esc(impl_->db, "SELECT quote(?)");
      esc.bind(1, name);
      esc.step();
      fields += ", (SELECT COALESCE(v.number, v.value) FROM point_values v WHERE v.point = p.point AND v.field = " +
                esc.text(0) + ") AS " + csv_quote(name);  // SQL quotes identifiers as CSV quotes fields
    }
  }
  std::string sql;
  if (table == "points") {
    sql = "SELECT p.point, p.label" + fields + " FROM points p ORDER BY p.point";
  } else if (table == "summaries") {
    std::string columns;
    for (const std::string& c : summary_field_names()) columns += ", s." + c;
    sql = "SELECT p.point, p.label" + fields + columns + " FROM points p JOIN summaries s ON s.point = p.point ORDER BY p.point";
  } else if (table == "runs") {
    std::string columns;
    std::istringstream names(kRunColumns);
    for (std::string c; std::getline(names, c, ',');) {
      c.erase(0, c.find_first_not_of(' '));
      if (c != "point") columns += ", r." + c;
    }
    sql = "SELECT p.point, p.label" + fields + columns + " FROM runs r JOIN points p ON p.point = r.point ORDER BY r.point, r.run";
  } else {
    throw InputError("export: unknown table '" + table + "'; expected summaries, runs or points");
  }
  const auto [names, rows] = query(impl_->db, sql);
  if (format == "csv") {
    for (size_t c = 0; c < names.size(); ++c) out << (c ? "," : "") << csv_cell({Cell::kText, 0, names[c]});
    out << "\n";
    for (const auto& row : rows) {
      for (size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csv_cell(row[c]);
      out << "\n";
    }
  } else if (format == "json") {
    out << "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      out << (i ? ",\n " : "\n ") << "{";
      for (size_t c = 0; c < names.size(); ++c) {
        const Cell& cell = rows[i][c];
        out << (c ? ", " : "") << json_string(names[c]) << ": "
            << (cell.kind == Cell::kText ? json_string(cell.text)
                : cell.kind == Cell::kNumber ? json_number(cell.number) : std::string("null"));
      }
      out << "}";
    }
    out << "\n]\n";
  } else {
    throw InputError("export: unknown format '" + format + "'; expected csv or json");
  }
}

void export_store(const std::string& path, const std::string& table, const std::string& format,
                  std::ostream& out) {
  auto store = ResultStore::open(path);
  if (table == "summaries") {
    // Summaries are always recomputed from the runs; a store whose writer stopped after
    // its last run and before its summaries gets them now, an incomplete one an error.
    const Manifest& m = store->manifest();
    if (store->summary_count() < m.points) {
      const uint64_t done = store->finished().size(), want = m.points * m.runs;
      if (m.shards != 1)
        throw InputError(path + ": shard " + std::to_string(m.shard) + "/" + std::to_string(m.shards) +
                         " has no summaries of its own; merge the shards with `canarysim merge OUT.db SHARD.db...`");
      if (done < want)
        throw InputError(path + ": holds " + std::to_string(done) + " of " + std::to_string(want) +
                         " runs and no summaries yet; complete it with `canarysim sweep " + m.sweep_file +
                         " --db " + path + " --resume`");
      store->write_summaries();
    }
  }
  store->write_table(table, format, out);
}

}  // namespace canarysim
