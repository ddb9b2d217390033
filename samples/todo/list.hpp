// SPDX-License-Identifier: MIT
#pragma once
// Todo.List: plain data, no processes. Entries with an id, a date and a
// title; ids are given in order, from 1. Stored as a log of records (below).

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace todo {

struct entry {
  std::uint64_t id = 0;
  std::string date;  ///< "2026-11-22"
  std::string title;
  friend bool operator==(const entry&, const entry&) = default;
};

class list {
 public:
  /// Adds the entry (its id is ignored) and returns the id it was given.
  std::uint64_t add(entry e) {
    e.id = next_id_++;
    const auto id = e.id;
    entries_.emplace(id, std::move(e));
    return id;
  }
  /// Changes the title and date of entry `id`; false if there is none.
  bool update(std::uint64_t id, std::string date, std::string title) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    it->second.date = std::move(date);
    it->second.title = std::move(title);
    return true;
  }
  /// Entry `id`, or null.
  const entry* entries_with_id(std::uint64_t id) const {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
  }
  /// Removes entry `id`; false if there is none.
  bool remove(std::uint64_t id) { return entries_.erase(id) == 1; }
  /// The entries of one date, by id.
  std::vector<entry> entries(std::string_view date) const {
    std::vector<entry> r;
    for (const auto& [id, e] : entries_)
      if (e.date == date) r.push_back(e);
    return r;
  }
  std::size_t size() const noexcept { return entries_.size(); }

  /// The id the next add will get.
  std::uint64_t next_id() const noexcept { return next_id_; }

  // ---- the stored form: a log of records, one line each, replayed in order ----
  //   + id<TAB>date<TAB>title    an entry added (ids after it go on from id + 1)
  //   = id<TAB>date<TAB>title    an entry changed
  //   - id                       an entry deleted
  //   next id                    the next id (a compacted log keeps it)
  // Tabs, newlines and backslashes in dates and titles are escaped, so a
  // record is one line; a change appends one record, never rewrites the list.

  static std::string add_record(const entry& e) { return "+ " + fields(e) + "\n"; }
  static std::string update_record(const entry& e) { return "= " + fields(e) + "\n"; }
  static std::string delete_record(std::uint64_t id) { return "- " + std::to_string(id) + "\n"; }
  /// The records that rebuild this list: what a compaction writes.
  std::string snapshot() const {
    std::string out = "next " + std::to_string(next_id_) + "\n";
    for (const auto& [id, e] : entries_) out += add_record(e);
    return out;
  }
  /// Applies one record (without its newline); throws std::runtime_error on a
  /// malformed one.
  void apply(std::string_view record) {
    if (record.substr(0, 5) == "next ") {
      next_id_ = std::max(next_id_, to_id(record.substr(5)));
      return;
    }
    if (record.size() < 3 || record[1] != ' ') throw std::runtime_error("todo list: malformed record");
    const char op = record[0];
    record.remove_prefix(2);
    if (op == '-') {
      entries_.erase(to_id(record));
      return;
    }
    if (op != '+' && op != '=') throw std::runtime_error("todo list: unknown record");
    auto t1 = record.find('\t');
    auto t2 = t1 == std::string_view::npos ? t1 : record.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) throw std::runtime_error("todo list: malformed entry");
    entry e{to_id(record.substr(0, t1)), unescape(record.substr(t1 + 1, t2 - t1 - 1)), unescape(record.substr(t2 + 1))};
    if (op == '+') {
      next_id_ = std::max(next_id_, e.id + 1);
      entries_.insert_or_assign(e.id, std::move(e));
    } else {
      auto it = entries_.find(e.id);
      if (it != entries_.end()) it->second = std::move(e);
    }
  }
  /// Replays a log; returns the list and how many records it held. A last
  /// line without its newline is a write that never finished (nothing was
  /// acknowledged for it): it is left out. Throws std::runtime_error on a
  /// malformed record.
  static std::pair<list, std::size_t> replay(std::string_view text) {
    list l;
    std::size_t records = 0;
    for (std::size_t pos = 0; pos < text.size();) {
      auto end = text.find('\n', pos);
      if (end == std::string_view::npos) break;  // the torn tail of an unfinished write
      l.apply(text.substr(pos, end - pos));
      ++records;
      pos = end + 1;
    }
    return {std::move(l), records};
  }

 private:
  static std::uint64_t to_id(std::string_view s) {
    if (s.empty() || s.size() > 19) throw std::runtime_error("todo list: bad id");
    std::uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') throw std::runtime_error("todo list: bad id");
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
  }
  static std::string fields(const entry& e) {
    return std::to_string(e.id) + '\t' + escape(e.date) + '\t' + escape(e.title);
  }
  static std::string escape(std::string_view s) {
    std::string r;
    for (char c : s) {
      if (c == '\\') r += "\\\\";
      else if (c == '\t') r += "\\t";
      else if (c == '\n') r += "\\n";
      else r += c;
    }
    return r;
  }
  static std::string unescape(std::string_view s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        r += s[i];
        continue;
      }
      if (++i == s.size()) throw std::runtime_error("todo list: dangling escape");
      switch (s[i]) {
        case '\\': r += '\\'; break;
        case 't': r += '\t'; break;
        case 'n': r += '\n'; break;
        default: throw std::runtime_error("todo list: bad escape");
      }
    }
    return r;
  }

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, entry> entries_;
};

}  // namespace todo
