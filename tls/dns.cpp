#include "tls/dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <mutex>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace tls {
namespace asio = boost::asio;

std::string to_string(DnsError error) {
  switch (error) {
    case DnsError::none:
      return "answered";
    case DnsError::nxdomain:
      return "NXDOMAIN";
    case DnsError::no_data:
      return "no record of that type";
    case DnsError::timeout:
      return "timeout";
    case DnsError::server_failure:
      return "server failure";
    case DnsError::connection_refused:
      return "connection refused";
    case DnsError::bad_reply:
      return "malformed reply";
    case DnsError::bad_name:
      return "not a DNS name";
    case DnsError::local_error:
      return "local error";
  }
  return "local error";
}

namespace {

DnsError dns_error(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return DnsError::none;
    case ARES_ENOTFOUND:
    case ARES_ENONAME:
      return DnsError::nxdomain;
    case ARES_ENODATA:
      return DnsError::no_data;
    case ARES_ETIMEOUT:
      return DnsError::timeout;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
    case ARES_ENOTIMP:
    case ARES_EFORMERR:
      return DnsError::server_failure;
    case ARES_ECONNREFUSED:
      return DnsError::connection_refused;
    case ARES_EBADRESP:
    case ARES_EOF:
      return DnsError::bad_reply;
    case ARES_EBADNAME:
    case ARES_EBADQUERY:
    case ARES_EBADSTR:
      return DnsError::bad_name;
    default:
      return DnsError::local_error;
  }
}

std::string server_text(const DnsServer& server) {
  const bool v6 = server.address.find(':') != std::string::npos;
  return (v6 ? "[" + server.address + "]" : server.address) + ":" + std::to_string(server.port);
}

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  else if (address->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
  return text;
}

// One lookup's answer is delivered once: by c-ares, or by our deadline if
// c-ares has not answered by then (its own retry timers are approximate).
template <class Answer>
struct Lookup {
  Answer answer;
  std::function<void(Answer)> handler;
  std::unique_ptr<asio::steady_timer> deadline;
  bool done = false;

  void finish(Answer result) {
    if (done) return;
    done = true;
    if (deadline) deadline->cancel();
    auto call = std::move(handler);
    call(std::move(result));
  }
};

}  // namespace

class DnsResolver::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, DnsOptions options)
      : io_(io), options_(std::move(options)), timer_(io) {}

  ~Impl() {
    destroying_ = true;
    for (auto& [fd, watched] : sockets_) release(*watched);
    sockets_.clear();
    // Pending lookups' callbacks run now with ARES_EDESTRUCTION and are dropped.
    if (channel_) ares_destroy(channel_);
  }

  Status init() {
    static std::once_flag library;
    int library_status = ARES_SUCCESS;
    std::call_once(library, [&] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS)
      return Error{std::string("c-ares: ") + ares_strerror(library_status)};

    ares_options options{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    options.sock_state_cb = &Impl::on_socket_state;
    options.sock_state_cb_data = this;
    options.tries = std::max(1, options_.tries);
    // c-ares doubles the wait on each round of retries (1 + 2 + 4 ...), so
    // the first try gets the share that makes every round fit the deadline.
    const long long rounds = (1LL << options.tries) - 1;
    options.timeout = static_cast<int>(std::max<long long>(100, options_.timeout.count() / rounds));
    std::string lookups = "b";
    if (!options_.servers.empty()) {
      // Asking one given server means its view only: no hosts file, no
      // search domains appended to a name that did not resolve.
      mask |= ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS;
      options.lookups = lookups.data();
      options.domains = nullptr;
      options.ndomains = 0;
    }
    int status = ares_init_options(&channel_, &options, mask);
    if (status != ARES_SUCCESS) {
      channel_ = nullptr;
      return Error{std::string("c-ares: cannot start a resolver: ") + ares_strerror(status)};
    }
    if (!options_.servers.empty()) {
      std::string csv;
      for (const DnsServer& server : options_.servers)
        csv += (csv.empty() ? "" : ",") + server_text(server);
      status = ares_set_servers_ports_csv(channel_, csv.c_str());
      if (status != ARES_SUCCESS) return Error{"DNS server " + csv + ": " + ares_strerror(status)};
    }
    return Done{};
  }

  std::string servers_text() const {
    if (options_.servers.empty()) return "the system's resolvers";
    std::string text;
    for (const DnsServer& server : options_.servers)
      text += (text.empty() ? "" : ", ") + server_text(server);
    return text;
  }

  void lookup_addresses(const std::string& name, std::function<void(AddressAnswer)> handler) {
    auto lookup = start<AddressAnswer>(name, "A/AAAA", std::move(handler));
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // RFC 6724 sorting would open a socket per address to rank them; every
    // address is dialled anyway, in the order DNS gave them.
    hints.ai_flags = ARES_AI_NOSORT;
    auto* carried = new Carried<AddressAnswer>{this, lookup};
    ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &Impl::on_addresses, carried);
    reschedule();
  }

  void lookup_srv(const std::string& name, std::function<void(SrvAnswer)> handler) {
    auto lookup = start<SrvAnswer>(name, "SRV", std::move(handler));
    auto* carried = new Carried<SrvAnswer>{this, lookup};
    ares_query(channel_, name.c_str(), ns_c_in, ns_t_srv, &Impl::on_srv, carried);
    reschedule();
  }

 private:
  // What a c-ares callback gets back: the lookup and the resolver that runs
  // it (alive whenever c-ares calls back, except with ARES_EDESTRUCTION).
  template <class Answer>
  struct Carried {
    Impl* owner;
    std::shared_ptr<Lookup<Answer>> lookup;
  };

  struct Watched {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
  };

  template <class Answer>
  std::shared_ptr<Lookup<Answer>> start(const std::string& name, const std::string& type,
                                        std::function<void(Answer)> handler) {
    auto lookup = std::make_shared<Lookup<Answer>>();
    lookup->answer.name = name;
    lookup->handler = std::move(handler);
    lookup->deadline = std::make_unique<asio::steady_timer>(io_, options_.timeout);
    std::weak_ptr<Lookup<Answer>> weak = lookup;
    std::string message = "no answer for " + type + " " + name + " from " + servers_text() +
                          " within " + std::to_string(options_.timeout.count()) + " ms";
    lookup->deadline->async_wait([weak, message](boost::system::error_code ec) {
      auto pending = weak.lock();
      if (ec || !pending) return;
      Answer answer = pending->answer;
      answer.error = DnsError::timeout;
      answer.message = message;
      pending->finish(std::move(answer));
    });
    return lookup;
  }

  std::string failure_message(const std::string& name, const std::string& type, int status) {
    const DnsError error = dns_error(status);
    switch (error) {
      case DnsError::nxdomain:
        return name + " does not exist (NXDOMAIN from " + servers_text() + ")";
      case DnsError::no_data:
        return name + " has no " + type + " record (asked " + servers_text() + ")";
      case DnsError::timeout:
        return "no answer for " + type + " " + name + " from " + servers_text() + " within " +
               std::to_string(options_.timeout.count()) + " ms";
      default:
        return type + " lookup of " + name + " at " + servers_text() +
               " failed: " + to_string(error) + " (" + ares_strerror(status) + ")";
    }
  }

  static void on_addresses(void* arg, int status, int, ares_addrinfo* result) {
    std::unique_ptr<Carried<AddressAnswer>> carried(static_cast<Carried<AddressAnswer>*>(arg));
    std::unique_ptr<ares_addrinfo, decltype(&ares_freeaddrinfo)> info(result, ares_freeaddrinfo);
    if (status == ARES_EDESTRUCTION) return;
    Lookup<AddressAnswer>& lookup = *carried->lookup;
    if (lookup.done) return;
    AddressAnswer answer = lookup.answer;
    Impl* self = carried->owner;
    if (status != ARES_SUCCESS || !info) {
      answer.error = dns_error(status);
      answer.message = self->failure_message(answer.name, "A/AAAA", status);
      lookup.finish(std::move(answer));
      return;
    }
    std::vector<std::string> v4, v6;
    std::optional<int> ttl;
    for (const ares_addrinfo_node* node = info->nodes; node; node = node->ai_next) {
      ttl = std::min(ttl.value_or(node->ai_ttl), node->ai_ttl);
      std::string text = address_text(node->ai_addr);
      auto& list = node->ai_family == AF_INET6 ? v6 : v4;
      if (!text.empty() && std::find(list.begin(), list.end(), text) == list.end())
        list.push_back(text);
    }
    // Servers rotate the order (DNS load balancing); a report lists them the
    // same way every run.
    for (auto* list : {&v4, &v6})
      std::sort(list->begin(), list->end(), [](const std::string& a, const std::string& b) {
        return asio::ip::make_address(a) < asio::ip::make_address(b);
      });
    answer.addresses = v4;
    answer.addresses.insert(answer.addresses.end(), v6.begin(), v6.end());
    answer.ttl = std::chrono::seconds(std::max(0, ttl.value_or(0)));
    if (answer.addresses.empty()) {
      answer.error = DnsError::no_data;
      answer.message = self->failure_message(answer.name, "A/AAAA", ARES_ENODATA);
    }
    lookup.finish(std::move(answer));
  }

  static void on_srv(void* arg, int status, int, unsigned char* reply, int length) {
    std::unique_ptr<Carried<SrvAnswer>> carried(static_cast<Carried<SrvAnswer>*>(arg));
    if (status == ARES_EDESTRUCTION) return;
    Lookup<SrvAnswer>& lookup = *carried->lookup;
    if (lookup.done) return;
    SrvAnswer answer = lookup.answer;
    Impl* self = carried->owner;
    ares_srv_reply* records = nullptr;
    if (status == ARES_SUCCESS) status = ares_parse_srv_reply(reply, length, &records);
    if (status != ARES_SUCCESS) {
      answer.error = dns_error(status);
      answer.message = self->failure_message(answer.name, "SRV", status);
      lookup.finish(std::move(answer));
      return;
    }
    for (const ares_srv_reply* record = records; record; record = record->next) {
      SrvRecord srv;
      srv.target = record->host ? record->host : "";
      // RFC 2782: a target of "." says the service is decidedly not
      // available; c-ares gives it as an empty name.
      if (srv.target.empty()) srv.target = ".";
      if (srv.target.size() > 1 && srv.target.back() == '.') srv.target.pop_back();
      srv.port = record->port;
      srv.priority = record->priority;
      srv.weight = record->weight;
      answer.records.push_back(srv);
    }
    ares_free_data(records);
    std::stable_sort(answer.records.begin(), answer.records.end(),
                     [](const SrvRecord& a, const SrvRecord& b) {
                       if (a.priority != b.priority) return a.priority < b.priority;
                       return a.weight > b.weight;
                     });
    if (answer.records.empty()) {
      answer.error = DnsError::no_data;
      answer.message = self->failure_message(answer.name, "SRV", ARES_ENODATA);
    }
    lookup.finish(std::move(answer));
  }

  // c-ares tells us which sockets it wants watched; Asio waits on them
  // without reading (c-ares reads in ares_process_fd).
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->watch(fd, readable != 0, writable != 0);
  }

  void release(Watched& watched) {
    // c-ares owns and closes the socket; the descriptor must not.
    if (watched.descriptor) {
      boost::system::error_code ignored;
      watched.descriptor->cancel(ignored);
      watched.descriptor->release();
    }
  }

  void watch(ares_socket_t fd, bool readable, bool writable) {
    if (destroying_) return;
    if (!readable && !writable) {
      if (auto found = sockets_.find(fd); found != sockets_.end()) {
        release(*found->second);
        sockets_.erase(found);
      }
      return;
    }
    auto& watched = sockets_[fd];
    if (!watched) {
      watched = std::make_shared<Watched>();
      watched->descriptor = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    }
    watched->want_read = readable;
    watched->want_write = writable;
    if (readable && !watched->reading) wait(fd, watched, true);
    if (writable && !watched->writing) wait(fd, watched, false);
  }

  void wait(ares_socket_t fd, const std::shared_ptr<Watched>& watched, bool for_read) {
    (for_read ? watched->reading : watched->writing) = true;
    std::weak_ptr<Impl> weak = weak_from_this();
    watched->descriptor->async_wait(
        for_read ? asio::posix::stream_descriptor::wait_read
                 : asio::posix::stream_descriptor::wait_write,
        [weak, fd, watched, for_read](boost::system::error_code ec) {
          (for_read ? watched->reading : watched->writing) = false;
          auto self = weak.lock();
          if (!self || ec == asio::error::operation_aborted) return;
          auto found = self->sockets_.find(fd);
          if (found == self->sockets_.end() || found->second != watched) return;
          self->process(for_read ? fd : ARES_SOCKET_BAD, for_read ? ARES_SOCKET_BAD : fd);
          // The socket may have been closed (and its number reused) meanwhile.
          found = self->sockets_.find(fd);
          if (found == self->sockets_.end() || found->second != watched) return;
          const bool wanted = for_read ? watched->want_read : watched->want_write;
          const bool waiting = for_read ? watched->reading : watched->writing;
          if (wanted && !waiting) self->wait(fd, watched, for_read);
        });
  }

  void process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ares_process_fd(channel_, read_fd, write_fd);
    reschedule();
  }

  // c-ares' retry timers: run ares_process_fd with no socket when the
  // earliest of them is due.
  void reschedule() {
    timeval wait{};
    if (!ares_timeout(channel_, nullptr, &wait)) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(wait.tv_sec) +
                         std::chrono::microseconds(wait.tv_usec));
    std::weak_ptr<Impl> weak = weak_from_this();
    timer_.async_wait([weak](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
  }

  asio::io_context& io_;
  DnsOptions options_;
  ares_channel channel_ = nullptr;
  asio::steady_timer timer_;
  std::map<ares_socket_t, std::shared_ptr<Watched>> sockets_;
  bool destroying_ = false;

  friend class DnsResolver;
};

DnsResolver::DnsResolver(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
DnsResolver::~DnsResolver() = default;

Result<std::unique_ptr<DnsResolver>> DnsResolver::create(asio::io_context& io, DnsOptions options) {
  auto impl = std::make_shared<Impl>(io, std::move(options));
  Status ready = impl->init();
  if (!ready) return ready.error();
  return std::unique_ptr<DnsResolver>(new DnsResolver(std::move(impl)));
}

void DnsResolver::lookup_addresses(const std::string& name,
                                   std::function<void(AddressAnswer)> handler) {
  impl_->lookup_addresses(name, std::move(handler));
}

void DnsResolver::lookup_srv(const std::string& name, std::function<void(SrvAnswer)> handler) {
  impl_->lookup_srv(name, std::move(handler));
}

std::string DnsResolver::servers_text() const { return impl_->servers_text(); }

namespace {

template <class Answer, class Start>
Answer resolve_one(const std::string& name, const DnsOptions& options, Start start) {
  Answer answer;
  answer.name = name;
  asio::io_context io;
  auto resolver = DnsResolver::create(io, options);
  if (!resolver) {
    answer.error = DnsError::local_error;
    answer.message = resolver.error().message;
    return answer;
  }
  bool done = false;
  start(**resolver, [&](Answer result) {
    answer = std::move(result);
    done = true;
  });
  while (!done && io.run_one() > 0) {
  }
  return answer;
}

}  // namespace

HostEndpoints resolve_host(asio::io_context& io, const std::string& host, std::uint16_t port,
                           std::chrono::steady_clock::time_point deadline,
                           const std::function<bool()>& stop) {
  using Steady = std::chrono::steady_clock;
  HostEndpoints resolved;
  boost::system::error_code not_literal;
  const auto literal = asio::ip::make_address(host, not_literal);
  if (!not_literal) {
    resolved.endpoints.emplace_back(literal, port);
    return resolved;
  }
  DnsOptions options;
  options.timeout =
      std::max(std::chrono::milliseconds(1),
               std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()));
  auto resolver = DnsResolver::create(io, options);
  if (!resolver) {
    resolved.error = DnsError::local_error;
    resolved.message = "cannot resolve " + host + ": " + resolver.error().message;
    return resolved;
  }
  std::optional<AddressAnswer> answer;
  (*resolver)->lookup_addresses(host,
                                [&answer](AddressAnswer given) { answer = std::move(given); });
  // The lookup's own deadline answers `timeout` by itself; the loop's
  // deadline is the same one, checked here too so that no wait outlives it.
  constexpr auto kStopPoll = std::chrono::milliseconds(50);
  io.restart();
  while (!answer && Steady::now() < deadline && !(stop && stop()))
    io.run_one_until(std::min(deadline, Steady::now() + kStopPoll));
  // Drops a lookup still pending (c-ares closes its sockets); what that
  // leaves queued on `io` finds the resolver gone and does nothing.
  resolver->reset();
  io.restart();
  io.poll();
  // poll() stops a loop it leaves without work; the caller runs it next.
  io.restart();
  if (!answer) {
    resolved.error = DnsError::timeout;
    resolved.stopped = Steady::now() < deadline;
    resolved.message = "no answer for A/AAAA " + host + " from the system's resolvers within " +
                       std::to_string(options.timeout.count()) + " ms";
    return resolved;
  }
  if (answer->error != DnsError::none) {
    resolved.error = answer->error;
    resolved.message = answer->message;
    return resolved;
  }
  for (const std::string& address : answer->addresses)
    resolved.endpoints.emplace_back(asio::ip::make_address(address), port);
  resolved.ttl = answer->ttl;
  return resolved;
}

AddressAnswer resolve_addresses(const std::string& name, const DnsOptions& options) {
  return resolve_one<AddressAnswer>(name, options, [&](DnsResolver& resolver, auto handler) {
    resolver.lookup_addresses(name, std::move(handler));
  });
}

SrvAnswer resolve_srv(const std::string& name, const DnsOptions& options) {
  return resolve_one<SrvAnswer>(name, options, [&](DnsResolver& resolver, auto handler) {
    resolver.lookup_srv(name, std::move(handler));
  });
}

}  // namespace tls
