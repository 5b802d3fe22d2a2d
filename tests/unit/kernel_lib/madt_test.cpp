// The ACPI MADT parser (kernel_lib/smp/madt.cpp), which decides which processors the kernel
// starts: a good table as QEMU builds it, then every way a firmware table can be wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernel_lib/smp/madt.h"

namespace {

using bf::acpi::Madt;
using bf::acpi::parse_madt;
using Bytes = std::vector<uint8_t>;

void put32(Bytes &b, uint32_t v) {
    for (int i = 0; i < 4; i++) b.push_back(uint8_t(v >> (8 * i)));
}

Bytes lapic(uint8_t uid, uint8_t id, uint32_t flags) {
    Bytes e{0, 8, uid, id};
    put32(e, flags);
    return e;
}
Bytes x2apic(uint32_t id, uint32_t flags) {
    Bytes e{9, 16, 0, 0};
    put32(e, id);
    put32(e, flags);
    put32(e, id);  // ACPI uid
    return e;
}
Bytes ioapic() {
    Bytes e{1, 12, 0, 0};
    put32(e, 0xFEC00000);
    put32(e, 0);
    return e;
}

void fix_checksum(Bytes &t) {
    t[9] = 0;
    uint8_t sum = 0;
    for (uint8_t b : t) sum = uint8_t(sum + b);
    t[9] = uint8_t(-sum);
}

// A MADT with the given entries, a correct length and checksum.
Bytes madt(const std::vector<Bytes> &entries) {
    Bytes t{'A', 'P', 'I', 'C', 0, 0, 0, 0, 3, 0};
    const char *oem = "BOCHS BXPC    ";
    t.insert(t.end(), oem, oem + 14);
    t.resize(36, 0);
    put32(t, 0xFEE00000);
    put32(t, 1);
    for (const Bytes &e : entries) t.insert(t.end(), e.begin(), e.end());
    uint32_t len = uint32_t(t.size());
    std::memcpy(&t[4], &len, 4);
    fix_checksum(t);
    return t;
}

TEST(Madt, QemuLikeTableListsEveryEnabledProcessor) {
    Bytes t = madt({lapic(0, 0, 1), lapic(1, 1, 1), lapic(2, 2, 1), lapic(3, 3, 1), ioapic()});
    Madt m;
    ASSERT_TRUE(parse_madt(t.data(), t.size(), &m)) << m.reason;
    EXPECT_EQ(m.count, 4);
    EXPECT_EQ(m.listed, 4);
    EXPECT_EQ(m.disabled, 0);
    EXPECT_EQ(m.lapic_addr, 0xFEE00000u);
    for (int i = 0; i < 4; i++) EXPECT_EQ(m.apic_ids[i], uint32_t(i));
    EXPECT_EQ(m.reason, nullptr);
}

TEST(Madt, DisabledProcessorsAreLeftOutOnlineCapableKept) {
    Bytes t = madt({lapic(0, 0, 1), lapic(1, 1, 0), lapic(2, 2, 2), lapic(3, 0xFF, 1)});
    Madt m;
    ASSERT_TRUE(parse_madt(t.data(), t.size(), &m)) << m.reason;
    ASSERT_EQ(m.count, 2);
    EXPECT_EQ(m.apic_ids[0], 0u);
    EXPECT_EQ(m.apic_ids[1], 2u);  // online-capable (flags bit 1)
    EXPECT_EQ(m.disabled, 1);      // ID 0xFF is the broadcast ID: skipped, not counted
}

TEST(Madt, X2apicEntriesAndDuplicates) {
    Bytes t = madt({lapic(0, 0, 1), x2apic(0, 1), x2apic(300, 1), x2apic(301, 0),
                    x2apic(0xFFFFFFFF, 1)});
    Madt m;
    ASSERT_TRUE(parse_madt(t.data(), t.size(), &m)) << m.reason;
    ASSERT_EQ(m.count, 2);  // 0 once, 300; 301 disabled; 0xFFFFFFFF broadcast
    EXPECT_EQ(m.apic_ids[0], 0u);
    EXPECT_EQ(m.apic_ids[1], 300u);
    EXPECT_EQ(m.disabled, 1);
}

TEST(Madt, AddressOverride) {
    Bytes ov{5, 12, 0, 0};
    put32(ov, 0x00000000);
    put32(ov, 0x1);  // 0x1_0000_0000
    Bytes t = madt({lapic(0, 0, 1), ov});
    Madt m;
    ASSERT_TRUE(parse_madt(t.data(), t.size(), &m)) << m.reason;
    EXPECT_EQ(m.lapic_addr, 0x100000000ull);
}

TEST(Madt, TruncatedBuffers) {
    Bytes t = madt({lapic(0, 0, 1), lapic(1, 1, 1)});
    Madt m;
    EXPECT_FALSE(parse_madt(nullptr, 0, &m));
    EXPECT_STREQ(m.reason, "MADT shorter than an ACPI table header");
    for (size_t n = 0; n < t.size(); n++) {
        Bytes cut(t.begin(), t.begin() + long(n));  // exact size: a read past it is a bug
        EXPECT_FALSE(parse_madt(cut.data(), cut.size(), &m)) << n;
        EXPECT_NE(m.reason, nullptr);
        EXPECT_EQ(m.count, 0);
    }
}

TEST(Madt, BadChecksumAndSignature) {
    Bytes t = madt({lapic(0, 0, 1)});
    Madt m;
    t[40] ^= 1;
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT checksum bad");
    t = madt({lapic(0, 0, 1)});
    t[0] = 'X';
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT signature is not APIC");
}

TEST(Madt, LengthFieldLies) {
    Madt m;
    Bytes t = madt({lapic(0, 0, 1)});
    uint32_t big = uint32_t(t.size() + 1);
    std::memcpy(&t[4], &big, 4);
    fix_checksum(t);
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT length runs past the table");
    t = madt({});
    uint32_t small = 40;  // shorter than the fixed fields
    std::memcpy(&t[4], &small, 4);
    fix_checksum(t);
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    // A shorter length than the buffer: only that much is the table.
    Bytes u = madt({lapic(0, 0, 1)});
    u.resize(u.size() + 100, 0x5A);
    ASSERT_TRUE(parse_madt(u.data(), u.size(), &m)) << m.reason;
    EXPECT_EQ(m.count, 1);
}

TEST(Madt, BadEntryLengths) {
    Madt m;
    Bytes zero{0, 0, 0, 0, 0, 0, 0, 0};  // length 0 would loop forever
    Bytes t = madt({lapic(0, 0, 1), zero});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT entry with length < 2");
    Bytes one{7, 1};
    t = madt({lapic(0, 0, 1), one});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    Bytes past{0, 40, 1, 1, 1, 0, 0, 0};  // claims 40 bytes, 8 left
    t = madt({lapic(0, 0, 1), past});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT entry runs past the table");
    Bytes short_lapic{0, 6, 1, 1, 1, 0};
    t = madt({short_lapic});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT local APIC entry shorter than 8 bytes");
    Bytes short_x2{9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
    t = madt({short_x2});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT local x2APIC entry shorter than 16 bytes");
    Bytes lone{0};  // one byte: no room for an entry header
    t = madt({lapic(0, 0, 1), lone});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT entry header runs past the table");
    // Longer entries than the type needs are fine (newer ACPI revisions append fields).
    Bytes long_lapic = lapic(0, 5, 1);
    long_lapic[1] = 12;
    long_lapic.resize(12, 0);
    t = madt({long_lapic});
    ASSERT_TRUE(parse_madt(t.data(), t.size(), &m)) << m.reason;
    EXPECT_EQ(m.apic_ids[0], 5u);
}

TEST(Madt, AbsurdCountsAreCapped) {
    std::vector<Bytes> many;
    for (uint32_t i = 0; i < 1000; i++) many.push_back(x2apic(i, 1));
    Bytes t = madt(many);
    Madt m;
    ASSERT_TRUE(parse_madt(t.data(), t.size(), &m)) << m.reason;
    EXPECT_EQ(m.count, bf::pool::kMaxThreads);
    EXPECT_EQ(m.listed, 1000);
    EXPECT_EQ(m.apic_ids[bf::pool::kMaxThreads - 1], uint32_t(bf::pool::kMaxThreads - 1));
}

TEST(Madt, NoUsableProcessor) {
    Madt m;
    Bytes t = madt({ioapic()});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_STREQ(m.reason, "MADT lists no enabled processor");
    t = madt({lapic(0, 0, 0), lapic(1, 1, 0)});
    EXPECT_FALSE(parse_madt(t.data(), t.size(), &m));
    EXPECT_EQ(m.disabled, 2);
}

}  // namespace
