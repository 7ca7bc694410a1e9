#include "probe/load/engine.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <thread>

#include "probe/load/failures.hpp"
#include "probe/sip/builders.hpp"
#include "probe/sip/stream_parser.hpp"

namespace probe::load {

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::tcp:
      return "tcp";
    case Phase::tls:
      return "tls";
    case Phase::sip:
      return "sip";
  }
  return "?";
}

double LoadResult::handshakes_per_second() const {
  return elapsed_seconds > 0 ? static_cast<double>(succeeded) / elapsed_seconds : 0;
}

namespace {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

double milliseconds_between(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// The bounds every worker shares: a handshake is started only while the
// count is not used up and the duration not over.
class RunBounds {
 public:
  RunBounds(std::optional<std::uint64_t> count, std::optional<Steady::time_point> deadline)
      : count_(count), deadline_(deadline) {}
  bool claim() {
    if (deadline_ && Steady::now() >= *deadline_) return false;
    if (count_) return claimed_.fetch_add(1, std::memory_order_relaxed) < *count_;
    return true;
  }
  bool over() const {
    if (deadline_ && Steady::now() >= *deadline_) return true;
    return count_ && claimed_.load(std::memory_order_relaxed) >= *count_;
  }

 private:
  std::optional<std::uint64_t> count_;
  std::optional<Steady::time_point> deadline_;
  std::atomic<std::uint64_t> claimed_{0};
};

// One worker's statistics: touched by its own thread only, merged at the end.
struct WorkerStats {
  std::array<LatencyHistogram, 3> latency;
  std::uint64_t succeeded = 0, failed = 0, resumed = 0, not_started = 0;
  std::map<std::string, FailureCount> failures;
};

// One handshake in flight.
struct Attempt {
  std::shared_ptr<tls::AsyncClientConnection> connection;
  Steady::time_point started;
  std::optional<sip::Exchange> exchange;
};

// "127.0.0.1" from "127.0.0.1:5061", "::1" from "[::1]:5061" (the record's
// own spelling of an endpoint, see tls/handshake_record.hpp).
std::string address_of(const std::string& endpoint_text) {
  std::string host = endpoint_text.substr(0, endpoint_text.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

class Worker {
 public:
  Worker(const LoadSettings& settings, const tls::ClientContext& context, RunBounds& bounds,
         LoadProgress& progress, std::size_t slots, std::optional<double> rate)
      : settings_(settings),
        context_(context),
        bounds_(bounds),
        progress_(progress),
        slots_(slots),
        rate_(rate),
        classifier_(settings.diagnosis),
        ticker_(io_) {}

  void run() {
    if (rate_) {
      next_tick_ = Steady::now();
      tick();
    } else {
      for (std::size_t i = 0; i < slots_; ++i) asio::post(io_, [this] { next_in_slot(); });
    }
    io_.run();
  }

  WorkerStats stats;

 private:
  // Closed loop: a slot starts its next handshake when the last one ended.
  void next_in_slot() {
    if (!bounds_.claim()) return;
    start([this] { next_in_slot(); });
  }

  // Open loop: a handshake every 1/rate s on this worker, on a fixed
  // schedule (a late tick does not push the next ones back).
  void tick() {
    if (bounds_.over()) return;
    if (in_flight_ >= slots_) {
      ++stats.not_started;
    } else if (bounds_.claim()) {
      start([] {});
    }
    next_tick_ +=
        std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / *rate_));
    ticker_.expires_at(next_tick_);
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (!ec) tick();
    });
  }

  void start(std::function<void()> then) {
    ++in_flight_;
    auto attempt = std::make_shared<Attempt>();
    attempt->connection = std::make_shared<tls::AsyncClientConnection>(io_, context_);
    attempt->started = Steady::now();
    attempt->connection->async_connect(
        settings_.endpoint, [this, attempt, then](tls::HandshakeError error) {
          if (error != tls::HandshakeError::none) return finish(*attempt, then);
          timed(Phase::tcp, attempt->connection->record().tcp_connect_ms);
          handshake(attempt, then);
        });
  }

  void handshake(std::shared_ptr<Attempt> attempt, std::function<void()> then) {
    attempt->connection->async_handshake(last_session_,
                                         [this, attempt, then](tls::HandshakeError error) {
                                           if (error != tls::HandshakeError::none)
                                             return finish(*attempt, then);
                                           if (!settings_.sip) return close(attempt, then);
                                           sip_options(attempt, then);
                                         });
  }

  // One OPTIONS and its final answer within the SIP deadline, as connect
  // --sip's exchange (probe/sip/client.cpp) judges it.
  void sip_options(std::shared_ptr<Attempt> attempt, std::function<void()> then) {
    const SipSettings& sip_settings = *settings_.sip;
    auto connection = attempt->connection->connection();
    auto request = std::make_shared<sip::Message>(
        sip::build_options_request(sip_settings.target_uri, sip_settings.from_uri,
                                   address_of(attempt->connection->record().local_address)));
    attempt->exchange.emplace();
    attempt->exchange->request_line = sip::start_line_text(*request);
    const auto sent = Steady::now();
    const auto deadline = sent + sip_settings.timeout;
    connection->async_write(sip::serialize(*request), sip_settings.timeout,
                            [this, attempt, then, request, sent, deadline](tls::Status written) {
                              if (!written) {
                                attempt->exchange->outcome = sip::ExchangeOutcome::closed;
                                attempt->exchange->error = "could not send " + request->method +
                                                           ": " + written.error().message;
                                return sip_ended(attempt, then);
                              }
                              read_answer(attempt, then, request,
                                          std::make_shared<sip::StreamParser>(), sent, deadline);
                            });
  }

  void read_answer(std::shared_ptr<Attempt> attempt, std::function<void()> then,
                   std::shared_ptr<sip::Message> request, std::shared_ptr<sip::StreamParser> parser,
                   Steady::time_point sent, Steady::time_point deadline) {
    sip::Exchange& exchange = *attempt->exchange;
    // Rounded up, as sip::Client does, so the read's own timer does not fire
    // just before the deadline.
    auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    if (remaining.count() <= 0) {
      exchange.outcome = sip::ExchangeOutcome::timed_out;
      exchange.error = "no answer to " + request->method + " within " +
                       std::to_string(settings_.sip->timeout.count()) + " ms";
      return sip_ended(attempt, then);
    }
    attempt->connection->connection()->async_read_some(
        remaining,
        [this, attempt, then, request, parser, sent, deadline](tls::Result<std::string> bytes) {
          sip::Exchange& exchange = *attempt->exchange;
          if (!bytes) {
            const bool timed_out = Steady::now() >= deadline;
            exchange.outcome =
                timed_out ? sip::ExchangeOutcome::timed_out : sip::ExchangeOutcome::closed;
            exchange.error = timed_out
                                 ? "no answer to " + request->method + " within " +
                                       std::to_string(settings_.sip->timeout.count()) + " ms"
                                 : "the peer closed the connection before the answer to " +
                                       request->method + " came (" + bytes.error().message + ")";
            return sip_ended(attempt, then);
          }
          exchange.nothing_received = false;
          for (sip::StreamEvent& event : parser->feed(*bytes)) {
            if (auto* error = std::get_if<sip::ParseError>(&event)) {
              exchange.outcome = sip::ExchangeOutcome::malformed;
              exchange.error = "the peer's answer is not SIP: " + error->reason;
              return sip_ended(attempt, then);
            }
            auto* message = std::get_if<sip::Message>(&event);
            if (!message || !message->is_response() || !sip::answers(*message, *request) ||
                !sip::is_final_response(*message))
              continue;
            exchange.response = std::move(*message);
            exchange.round_trip_ms = milliseconds_between(sent, Steady::now());
            exchange.outcome = sip::ExchangeOutcome::answered;
            timed(Phase::sip, exchange.round_trip_ms);
            return sip_ended(attempt, then);
          }
          read_answer(attempt, then, request, parser, sent, deadline);
        });
  }

  void sip_ended(std::shared_ptr<Attempt> attempt, std::function<void()> then) {
    if (attempt->connection->record().peer_rejected_us)
      attempt->exchange->outcome = sip::ExchangeOutcome::peer_rejected_us;
    close(attempt, then);
  }

  void close(std::shared_ptr<Attempt> attempt, std::function<void()> then) {
    attempt->connection->async_close(
        [this, attempt, then](tls::HandshakeError) { finish(*attempt, then); });
  }

  void timed(Phase phase, double milliseconds) {
    stats.latency[static_cast<std::size_t>(phase)].record(milliseconds);
  }

  void finish(const Attempt& attempt, const std::function<void()>& then) {
    --in_flight_;
    const tls::HandshakeRecord& record = attempt.connection->record();
    std::optional<report::Finding> failure;
    if (!record.ok()) {
      failure = classifier_.classify(record);
    } else if (attempt.exchange) {
      report::Finding judged = blamed_sip_finding(*attempt.exchange, record);
      if (judged.status == report::Status::fail) failure = std::move(judged);
    }
    if (record.handshake_completed) timed(Phase::tls, record.handshake_ms);
    if (failure) {
      ++stats.failed;
      progress_.failed.fetch_add(1, std::memory_order_relaxed);
      FailureCount& counted = stats.failures[failure->id];
      if (counted.count++ == 0) counted.finding = std::move(*failure);
    } else {
      ++stats.succeeded;
      progress_.succeeded.fetch_add(1, std::memory_order_relaxed);
      if (attempt.connection->resumed()) ++stats.resumed;
    }
    if (settings_.resumption && !failure && !attempt.connection->session().empty())
      last_session_ = attempt.connection->session();
    then();
  }

  const LoadSettings& settings_;
  const tls::ClientContext& context_;
  RunBounds& bounds_;
  LoadProgress& progress_;
  std::size_t slots_;
  std::optional<double> rate_;
  asio::io_context io_;
  FailureClassifier classifier_;
  asio::steady_timer ticker_;
  Steady::time_point next_tick_;
  std::size_t in_flight_ = 0;
  tls::ResumableSession last_session_;
};

}  // namespace

LoadResult run_load(const LoadSettings& settings, const tls::ClientContext& context,
                    LoadProgress& progress) {
  const unsigned threads = std::max(1u, settings.threads);
  const auto started = Steady::now();
  std::optional<Steady::time_point> deadline;
  if (settings.duration)
    deadline = started + std::chrono::duration_cast<Steady::duration>(*settings.duration);
  RunBounds bounds(settings.count, deadline);

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < threads; ++i) {
    // Connections split as evenly as they go; the first workers take the rest.
    std::size_t slots = settings.connections / threads + (i < settings.connections % threads);
    std::optional<double> rate;
    if (settings.rate) rate = *settings.rate / threads;
    if (slots == 0 && !settings.rate) continue;
    workers.push_back(std::make_unique<Worker>(settings, context, bounds, progress,
                                               std::max<std::size_t>(slots, 1), rate));
  }
  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([&worker] { worker->run(); });
  for (auto& thread : running) thread.join();

  LoadResult result;
  result.elapsed_seconds = std::chrono::duration<double>(Steady::now() - started).count();
  std::array<LatencyHistogram, 3> latency;
  std::map<std::string, FailureCount> failures;
  for (const auto& worker : workers) {
    const WorkerStats& stats = worker->stats;
    result.succeeded += stats.succeeded;
    result.failed += stats.failed;
    result.resumed += stats.resumed;
    result.not_started += stats.not_started;
    for (std::size_t i = 0; i < latency.size(); ++i) latency[i].merge(stats.latency[i]);
    for (const auto& [id, counted] : stats.failures) {
      FailureCount& merged = failures[id];
      if (merged.count == 0) merged.finding = counted.finding;
      merged.count += counted.count;
    }
  }
  for (Phase phase : kPhases)
    if (auto summary = latency[static_cast<std::size_t>(phase)].summary())
      result.latency.emplace_back(phase, *summary);
  for (auto& [id, counted] : failures) result.failures.push_back(std::move(counted));
  std::stable_sort(result.failures.begin(), result.failures.end(),
                   [](const FailureCount& a, const FailureCount& b) { return a.count > b.count; });
  return result;
}

}  // namespace probe::load
