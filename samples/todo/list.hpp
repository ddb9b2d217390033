// SPDX-License-Identifier: MIT
#pragma once
// Todo.List: plain data, no processes. Entries with an id, a date and a
// title; ids are given in order, from 1.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

  /// One line per entry, "id\tdate\ttitle" (tabs, newlines and backslashes
  /// escaped), after a first line "next <id>".
  std::string serialize() const {
    std::string out = "next " + std::to_string(next_id_) + "\n";
    for (const auto& [id, e] : entries_) {
      out += std::to_string(id) + '\t' + escape(e.date) + '\t' + escape(e.title) + '\n';
    }
    return out;
  }
  /// The inverse of serialize; throws std::runtime_error on malformed text
  /// (a corrupt file crashes whoever loads it: let it crash).
  static list parse(std::string_view text) {
    list l;
    std::size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
      auto end = text.find('\n', pos);
      if (end == std::string_view::npos) throw std::runtime_error("todo list: unterminated line");
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      if (first) {
        if (line.substr(0, 5) != "next ") throw std::runtime_error("todo list: no header");
        l.next_id_ = to_id(line.substr(5));
        first = false;
        continue;
      }
      auto t1 = line.find('\t');
      auto t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
      if (t2 == std::string_view::npos) throw std::runtime_error("todo list: malformed entry");
      entry e{to_id(line.substr(0, t1)), unescape(line.substr(t1 + 1, t2 - t1 - 1)), unescape(line.substr(t2 + 1))};
      if (e.id >= l.next_id_) throw std::runtime_error("todo list: entry id beyond the next id");
      l.entries_.emplace(e.id, std::move(e));
    }
    if (first) throw std::runtime_error("todo list: empty text");
    return l;
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
