#pragma once
// An answer fetched once per run and shared: the first caller for a key
// fetches, callers for the same key meanwhile wait for that answer instead
// of asking the same server again (a fleet's threads check chains that share
// their CAs). Thread-safe. Include from anywhere in probe/.
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace probe {

template <class Value>
class OncePerKey {
 public:
  // `fetch` runs without the lock held, at most once per key per memo.
  Value get(const std::string& key, const std::function<Value()>& fetch) {
    std::unique_lock lock(mutex_);
    auto [entry, inserted] = answers_.try_emplace(key);
    if (!inserted) {
      ready_.wait(lock, [&] {
        auto found = answers_.find(key);
        return found == answers_.end() || found->second.has_value();
      });
      if (auto found = answers_.find(key); found != answers_.end()) return *found->second;
      lock.unlock();
      return get(key, fetch);
    }
    lock.unlock();
    std::optional<Value> value;
    try {
      value = fetch();
    } catch (...) {
      // Waiters must not wait forever: the next caller fetches again.
      lock.lock();
      answers_.erase(key);
      ready_.notify_all();
      throw;
    }
    lock.lock();
    answers_.at(key) = value;
    ready_.notify_all();
    return *value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::map<std::string, std::optional<Value>> answers_;  // nullopt: being fetched
};

}  // namespace probe
