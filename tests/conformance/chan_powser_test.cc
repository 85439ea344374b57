// A port of Go's test/chan/powser1.go: power series as demand-driven networks of goroutines
// (M. Douglas McIlroy, "Squinting at Power Series"). Each series is a pair of channels: a
// consumer sends a request on `req` and receives the next coefficient on `dat`. Splitting a
// series in two, adding and multiplying series build deep, dynamically growing goroutine
// graphs that use unbuffered channels, nil channels in select and selects over sends and
// receives together. The checks are Go's: the first terms of 1/(1-x), its sum, difference,
// derivative, integral, square, exponential and the arctangent series.
//
// Differences from Go: Go's program leaves the whole network blocked forever when main
// returns; here every blocking step also watches a quit channel, and closing it unwinds
// every goroutine (an exception), so that the fixture's leak check still applies. Go's
// `seqno` (a racy counter whose values nobody reads) is not ported.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "support/goro_test.h"

namespace {

using goro_test::Procs;

// ---- rational numbers (den == 0 marks the end of a finite series) ----------------------

struct rat {
  std::int64_t num = 0, den = 1;
  friend bool operator==(const rat&, const rat&) = default;
};

std::int64_t gcd(std::int64_t u, std::int64_t v) {
  if (u < 0) return gcd(-u, v);
  if (u == 0) return v;
  return gcd(v % u, u);
}
rat i2tor(std::int64_t u, std::int64_t v) {
  std::int64_t g = gcd(u, v);
  return v > 0 ? rat{u / g, v / g} : rat{-u / g, -v / g};
}
rat itor(std::int64_t u) { return i2tor(u, 1); }
const rat zero = itor(0);
const rat one = itor(1);
const rat finis{0, 0};
int end(rat u) { return u.den == 0 ? 1 : 0; }
rat add(rat u, rat v) {
  std::int64_t g = gcd(u.den, v.den);
  return i2tor(u.num * (v.den / g) + v.num * (u.den / g), u.den * (v.den / g));
}
rat mul(rat u, rat v) {
  std::int64_t g1 = gcd(u.num, v.den), g2 = gcd(u.den, v.num);
  return rat{(u.num / g1) * (v.num / g2), (u.den / g2) * (v.den / g1)};
}
rat neg(rat u) { return i2tor(-u.num, u.den); }

// ---- the network -------------------------------------------------------------------------

struct stopped {};  // thrown out of a blocking step once quit is closed

struct dch {
  goro::chan<int> req;
  goro::chan<rat> dat;
};
using ps = dch;
using dch2 = std::shared_ptr<std::array<dch, 2>>;

class powser {
 public:
  // Starts fn as a goroutine of the network.
  template <class F>
  void go(F fn) {
    running_.fetch_add(1);
    goro::go([this, fn]() mutable {
      try {
        fn();
      } catch (const stopped&) {
      }
      running_.fetch_sub(1);
    });
  }
  // Unwinds every goroutine of the network and waits for them to finish.
  void stop() {
    quit_.close();
    while (running_.load() != 0) goro::yield();
  }

  // Blocking steps that give up when quit is closed.
  template <class T>
  T recv(const goro::chan<T>& c) {
    T v{};
    bool stop = false;
    goro::select(goro::recv(c, [&](T x) { v = x; }), goro::recv(quit_, [&] { stop = true; }));
    if (stop) throw stopped{};
    return v;
  }
  template <class T>
  void send(const goro::chan<T>& c, T v) {
    bool stop = false;
    goro::select(goro::send(c, v), goro::recv(quit_, [&] { stop = true; }));
    if (stop) throw stopped{};
  }

  static dch mkdch() { return {goro::make_chan<int>(), goro::make_chan<rat>()}; }
  static dch2 mkdch2() { return std::make_shared<std::array<dch, 2>>(std::array<dch, 2>{mkdch(), mkdch()}); }

  // Hands each value of `in` to both outputs, whichever asks first (one goroutine per value).
  void dosplit(dch in, dch2 out, goro::chan<int> wait) {
    bool both = false;  // do not service both channels
    bool stop = false;
    int first = goro::select(goro::recv((*out)[0].req), goro::recv(wait), goro::recv(quit_, [&] { stop = true; }));
    if (stop) throw stopped{};
    if (first == 1) {
      both = true;
      int which = goro::select(goro::recv((*out)[0].req), goro::recv((*out)[1].req),
                               goro::recv(quit_, [&] { stop = true; }));
      if (stop) throw stopped{};
      if (which == 1) std::swap((*out)[0], (*out)[1]);
    }
    send(in.req, 0);
    auto release = goro::make_chan<int>();
    go([=, this] { dosplit(in, out, release); });
    rat dat = recv(in.dat);
    send((*out)[0].dat, dat);
    if (!both) recv(wait);
    recv((*out)[1].req);
    send((*out)[1].dat, dat);
    send(release, 0);
  }
  void split(dch in, dch2 out) {
    auto release = goro::make_chan<int>();
    go([=, this] { dosplit(in, out, release); });
    send(release, 0);
  }
  void put(rat dat, const dch& out) {
    recv(out.req);
    send(out.dat, dat);
  }
  rat get(const dch& in) {
    send(in.req, 0);
    return recv(in.dat);
  }
  // One item from each of two demand channels: a select over two sends and two receives,
  // with nil channels switching cases off.
  std::array<rat, 2> get2(const dch& in0, const dch& in1) {
    goro::chan<int> req[2] = {in0.req, in1.req};
    goro::chan<rat> dat[2];
    std::array<rat, 2> out{};
    for (int n = 4; n > 0; n--) {
      bool stop = false;
      goro::select(goro::send(req[0], 0, [&] { dat[0] = in0.dat; req[0] = {}; }),
                   goro::send(req[1], 0, [&] { dat[1] = in1.dat; req[1] = {}; }),
                   goro::recv(dat[0], [&](rat it) { out[0] = it; dat[0] = {}; }),
                   goro::recv(dat[1], [&](rat it) { out[1] = it; dat[1] = {}; }),
                   goro::recv(quit_, [&] { stop = true; }));
      if (stop) throw stopped{};
    }
    return out;
  }
  void copy(const dch& in, const dch& out) {
    for (;;) {
      recv(out.req);
      send(out.dat, get(in));
    }
  }

  ps mkps() { return mkdch(); }
  ps rep(rat c) {
    ps z = mkps();
    go([=, this] {
      for (;;) put(c, z);
    });
    return z;
  }
  ps add_ps(ps u, ps v) {
    ps z = mkps();
    go([=, this] {
      for (;;) {
        recv(z.req);
        auto uv = get2(u, v);
        switch (end(uv[0]) + 2 * end(uv[1])) {
          case 0: send(z.dat, add(uv[0], uv[1])); break;
          case 1: send(z.dat, uv[1]); copy(v, z); break;
          case 2: send(z.dat, uv[0]); copy(u, z); break;
          case 3: send(z.dat, finis); break;
        }
      }
    });
    return z;
  }
  ps cmul(rat c, ps u) {
    ps z = mkps();
    go([=, this] {
      for (;;) {
        recv(z.req);
        rat x = get(u);
        if (end(x) != 0) break;
        send(z.dat, mul(c, x));
      }
      send(z.dat, finis);
    });
    return z;
  }
  ps sub_ps(ps u, ps v) { return add_ps(u, cmul(neg(one), v)); }
  ps shift(rat c, ps u) {
    ps z = mkps();
    go([=, this] {
      put(c, z);
      copy(u, z);
    });
    return z;
  }
  dch2 split_ps(ps u) {
    dch2 uu = mkdch2();
    go([=, this] { split(u, uu); });
    return uu;
  }
  // UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV
  ps mul_ps(ps u, ps v) {
    ps z = mkps();
    go([=, this] {
      recv(z.req);
      auto uv = get2(u, v);
      if (end(uv[0]) != 0 || end(uv[1]) != 0) {
        send(z.dat, finis);
        return;
      }
      send(z.dat, mul(uv[0], uv[1]));
      dch2 uu = split_ps(u);
      dch2 vv = split_ps(v);
      ps w = add_ps(cmul(uv[0], (*vv)[0]), cmul(uv[1], (*uu)[0]));
      recv(z.req);
      send(z.dat, get(w));
      copy(add_ps(w, mul_ps((*uu)[1], (*vv)[1])), z);
    });
    return z;
  }
  ps diff(ps u) {
    ps z = mkps();
    go([=, this] {
      recv(z.req);
      rat x = get(u);
      if (end(x) == 0) {
        for (int i = 1;; i++) {
          x = get(u);
          if (end(x) != 0) break;
          send(z.dat, mul(itor(i), x));
          recv(z.req);
        }
      }
      send(z.dat, finis);
    });
    return z;
  }
  ps integ(rat c, ps u) {
    ps z = mkps();
    go([=, this] {
      put(c, z);
      bool done = false;
      for (int i = 1; !done; i++) {
        recv(z.req);
        rat x = get(u);
        if (end(x) != 0) done = true;
        send(z.dat, mul(i2tor(1, i), x));
      }
      send(z.dat, finis);
    });
    return z;
  }
  // Z = exp(U): DZ = Z*DU, integrated.
  ps exp_ps(ps u) {
    dch2 zz = mkdch2();
    split(integ(one, mul_ps((*zz)[0], diff(u))), zz);
    return (*zz)[1];
  }
  ps mon_subst(ps u, rat c0, int n) {
    ps z = mkps();
    go([=, this] {
      rat c = one;
      for (;;) {
        recv(z.req);
        rat x = get(u);
        send(z.dat, mul(x, c));
        c = mul(c, c0);
        if (end(x) != 0) {
          send(z.dat, finis);
          break;
        }
        for (int i = 1; i < n; i++) {
          recv(z.req);
          send(z.dat, zero);
        }
      }
    });
    return z;
  }

 private:
  goro::chan<> quit_ = goro::make_chan<>();
  std::atomic<int> running_{0};
};

class ChanPowser : public Procs {};
GORO_INSTANTIATE_PROCS(ChanPowser);

constexpr int kN = 10;

void check(powser& p, const ps& u, rat c, int count, const char* what) {
  for (int i = 0; i < count; i++) {
    rat r = p.get(u);
    EXPECT_EQ(r, c) << what << " term " << i << ": got " << r.num << "/" << r.den << ", want " << c.num << "/" << c.den;
  }
}
void checka(powser& p, const ps& u, const std::array<rat, kN>& a, const char* what) {
  for (int i = 0; i < kN; i++) check(p, u, a[static_cast<std::size_t>(i)], 1, what);
}

TEST_P(ChanPowser, PowerSeries) {
  run([] {
    powser p;
    ps ones = p.rep(one);
    ps twos = p.rep(itor(2));
    std::array<rat, kN> a{};

    check(p, ones, one, 5, "Ones");
    check(p, p.add_ps(ones, ones), itor(2), 5, "Add Ones Ones");
    check(p, p.add_ps(ones, twos), itor(3), 5, "Add Ones Twos");
    for (int i = 0; i < kN; i++) a[static_cast<std::size_t>(i)] = itor(i + 1);
    checka(p, p.diff(ones), a, "Diff");  // 1 2 3 4 5
    a[0] = zero;
    for (int i = 1; i < kN; i++) a[static_cast<std::size_t>(i)] = i2tor(1, i);
    checka(p, p.integ(zero, ones), a, "Integ");  // 0 1 1/2 1/3 1/4 1/5
    check(p, p.cmul(neg(one), twos), itor(-2), 10, "CMul");
    check(p, p.sub_ps(ones, twos), itor(-1), 5, "Sub Ones Twos");
    for (int i = 0; i < kN; i++) a[static_cast<std::size_t>(i)] = itor(i + 1);
    checka(p, p.mul_ps(ones, ones), a, "Mul");  // 1 2 3 4 5
    a = {itor(1), itor(1), i2tor(3, 2), i2tor(13, 6), i2tor(73, 24), i2tor(167, 40), i2tor(4051, 720), i2tor(37633, 5040),
         i2tor(43817, 4480), i2tor(4596553, 362880)};
    checka(p, p.exp_ps(ones), a, "Exp");  // 1 1 3/2 13/6 73/24
    for (int i = 0, c = 1; i < kN; i++) {
      if (i % 2 == 0) {
        a[static_cast<std::size_t>(i)] = zero;
      } else {
        a[static_cast<std::size_t>(i)] = i2tor(c, i);
        c = -c;
      }
    }
    checka(p, p.integ(zero, p.mon_subst(ones, neg(one), 2)), a, "ATan");  // 0 1 0 -1/3 0 1/5
    p.stop();
  });
}

}  // namespace
