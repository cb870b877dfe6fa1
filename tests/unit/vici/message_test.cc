// vici::Message: the README's encoding example, the building and reading helpers, dump(), and
// one hand-made input for every decode and encode error.
#include "vici/message.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/hex.h"

namespace ikeplex::vici {
namespace {

Bytes bytes_of(std::initializer_list<int> v) {
    Bytes out;
    for (const int b : v) {
        out.push_back(static_cast<std::uint8_t>(b));
    }
    return out;
}

/// Appends the bytes of `s` to `out`.
void append(Bytes& out, std::string_view s) {
    out.insert(out.end(), s.begin(), s.end());
}

/// The encoding example of strongSwan's vici README ("Encoding example"), written out here
/// byte by byte from its description:
///   key1 = value1
///   section1 = { sub-section = { key2 = value2 }  list1 = [ item1, item2 ] }
Bytes readme_example() {
    Bytes b;
    b.insert(b.end(), {3, 4});
    append(b, "key1");
    b.insert(b.end(), {0, 6});
    append(b, "value1");
    b.insert(b.end(), {1, 8});
    append(b, "section1");
    b.insert(b.end(), {1, 11});
    append(b, "sub-section");
    b.insert(b.end(), {3, 4});
    append(b, "key2");
    b.insert(b.end(), {0, 6});
    append(b, "value2");
    b.push_back(2);
    b.insert(b.end(), {4, 5});
    append(b, "list1");
    b.insert(b.end(), {5, 0, 5});
    append(b, "item1");
    b.insert(b.end(), {5, 0, 5});
    append(b, "item2");
    b.push_back(6);
    b.push_back(2);
    return b;
}

Message readme_message() {
    Message m;
    m.add("key1", "value1");
    Message& s1 = m.add_section("section1");
    s1.add_section("sub-section").add("key2", "value2");
    s1.add_list("list1", {"item1", "item2"});
    return m;
}

TEST(ViciMessage, ReadmeExampleEncodesAndDecodes) {
    auto bytes = encode(readme_message());
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(to_hex(*bytes), to_hex(readme_example()));
    auto back = decode(readme_example());
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, readme_message());
}

TEST(ViciMessage, EmptyMessageIsZeroBytes) {
    auto bytes = encode(Message{});
    ASSERT_TRUE(bytes);
    EXPECT_TRUE(bytes->empty());
    auto back = decode({});
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->empty());
    EXPECT_EQ(dump(*back), "{}");
}

TEST(ViciMessage, BuildAndRead) {
    Message m = readme_message();
    EXPECT_EQ(m.size(), 2U);
    EXPECT_EQ(m.get("key1"), "value1");
    EXPECT_FALSE(m.get("section1"));  // a section, not a key/value
    EXPECT_FALSE(m.get("missing"));
    const Message* s1 = m.find_section("section1");
    ASSERT_NE(s1, nullptr);
    EXPECT_EQ(s1->find_section("sub-section")->get("key2"), "value2");
    EXPECT_EQ(s1->find_section("list1"), nullptr);
    const List* list = s1->find_list("list1");
    ASSERT_NE(list, nullptr);
    EXPECT_EQ(list->texts(), (std::vector<std::string_view>{"item1", "item2"}));
    EXPECT_EQ(m.find_list("key1"), nullptr);
    EXPECT_EQ(m.find_value("key1")->text(), "value1");

    // Order is kept; set() replaces the first key/value of that name or appends.
    m.set("key1", "changed");
    m.set("key3", "new");
    std::vector<std::string> names;
    for (const Entry& e : m) {
        names.push_back(entry_name(e));
    }
    EXPECT_EQ(names, (std::vector<std::string>{"key1", "section1", "key3"}));
    EXPECT_EQ(m.get("key1"), "changed");

    m.find_section("section1")->add("late", "x");
    EXPECT_EQ(dump(m),
              "{key1=changed section1 {sub-section {key2=value2} list1=[item1 item2] late=x} "
              "key3=new}");
}

TEST(ViciMessage, DuplicateNamesAreKeptAndTheFirstIsFound) {
    Message m;
    m.add("k", "1");
    m.add("k", "2");
    m.add_list("l").add("a");
    m.add_list("l");
    auto back = decode(*encode(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    EXPECT_EQ(back->get("k"), "1");
    EXPECT_EQ(back->find_list("l")->items.size(), 1U);
}

TEST(ViciMessage, BinaryValuesAndDump) {
    Message m;
    const Bytes bin = bytes_of({0x00, 0xff, 0x41});
    m.add_bytes("blob", bin);
    m.add("empty", "");
    m.add_list("none");
    m.add_section("s");
    EXPECT_EQ(m.find_value("blob")->value, bin);
    EXPECT_EQ(dump(m), "{blob=0x00ff41 empty= none=[] s {}}");
    auto back = decode(*encode(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(ViciMessage, LongestNameAndValue) {
    Message m;
    const std::string name(kMaxNameLength, 'n');
    const std::string value(kMaxValueLength, 'v');
    m.add(name, value);
    m.add_list(name, {value});
    m.add_section(name);
    auto bytes = encode(m);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    auto back = decode(*bytes);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, m);
}

/// A message of `depth` nested sections "s".
Message nested(std::size_t depth) {
    Message root;
    Message* m = &root;
    for (std::size_t i = 0; i < depth; ++i) {
        m = &m->add_section("s");
    }
    m->add("k", "v");
    return root;
}

TEST(ViciMessage, NestingUpToTheLimit) {
    auto bytes = encode(nested(kMaxDepth));
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    auto back = decode(*bytes);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, nested(kMaxDepth));

    auto too_deep = encode(nested(kMaxDepth + 1));
    ASSERT_FALSE(too_deep);
    EXPECT_EQ(too_deep.error().code, Errc::kTooLarge);
    EXPECT_STREQ(too_deep.error().detail, "vici: sections nested too deeply");
}

// ---- decode errors ---------------------------------------------------------------------------

struct BadInput {
    const char* what;
    Bytes bytes;
    Errc code;
    const char* detail;
    std::uint32_t arg;
};

std::vector<BadInput> bad_inputs() {
    Bytes deep;
    for (std::size_t i = 0; i <= kMaxDepth; ++i) {
        deep.insert(deep.end(), {1, 1, 's'});
    }
    for (std::size_t i = 0; i <= kMaxDepth; ++i) {
        deep.push_back(2);
    }
    Bytes very_deep;  // far deeper than the limit: rejected without recursing that deep
    for (int i = 0; i < 100000; ++i) {
        very_deep.insert(very_deep.end(), {1, 1, 's'});
    }
    const Errc kSyntax = Errc::kInvalidSyntax;
    const Errc kTrunc = Errc::kTruncated;
    return {
            // unknown element types
            {"type 0", bytes_of({0}), kSyntax, "vici: unknown element type", 0},
            {"type 7", bytes_of({7, 0, 0}), kSyntax, "vici: unknown element type", 7},
            {"type 255", bytes_of({255}), kSyntax, "vici: unknown element type", 255},
            {"unknown type after a good key", bytes_of({3, 1, 'k', 0, 1, 'v', 9}), kSyntax,
             "vici: unknown element type", 9},
            // truncation, in every field
            {"key name length", bytes_of({3}), kTrunc, "vici: key name length", 0},
            {"key name", bytes_of({3, 4, 'k'}), kTrunc, "vici: key name", 0},
            {"value length", bytes_of({3, 1, 'k'}), kTrunc, "vici: value length", 0},
            {"value length half", bytes_of({3, 1, 'k', 0}), kTrunc, "vici: value length", 0},
            {"value", bytes_of({3, 1, 'k', 0, 2, 'v'}), kTrunc, "vici: value", 0},
            {"section name length", bytes_of({1}), kTrunc, "vici: section name length", 0},
            {"section name", bytes_of({1, 2, 's'}), kTrunc, "vici: section name", 0},
            {"list name length", bytes_of({4}), kTrunc, "vici: list name length", 0},
            {"list name", bytes_of({4, 3, 'l'}), kTrunc, "vici: list name", 0},
            {"list item length", bytes_of({4, 1, 'l', 5, 0}), kTrunc, "vici: list item length", 0},
            {"list item value", bytes_of({4, 1, 'l', 5, 0, 3, 'a'}), kTrunc,
             "vici: list item value", 0},
            {"value length larger than the rest", bytes_of({3, 1, 'k', 0xff, 0xff, 'v'}), kTrunc,
             "vici: value", 0},
            // unbalanced sections and lists
            {"section end at the top", bytes_of({2}), kSyntax,
             "vici: section end without a section", 0},
            {"one section end too many", bytes_of({1, 1, 's', 2, 2}), kSyntax,
             "vici: section end without a section", 0},
            {"section not closed", bytes_of({1, 1, 's'}), kSyntax, "vici: section not closed", 0},
            {"inner section not closed", bytes_of({1, 1, 's', 1, 1, 't', 2}), kSyntax,
             "vici: section not closed", 0},
            {"list not closed", bytes_of({4, 1, 'l'}), kSyntax, "vici: list not closed", 0},
            {"list with item not closed", bytes_of({4, 1, 'l', 5, 0, 0}), kSyntax,
             "vici: list not closed", 0},
            {"list end without list", bytes_of({6}), kSyntax, "vici: list end without a list", 0},
            {"list end inside a section", bytes_of({1, 1, 's', 6, 2}), kSyntax,
             "vici: list end without a list", 0},
            // items outside lists, other elements inside lists
            {"item at the top", bytes_of({5, 0, 0}), kSyntax, "vici: list item outside a list", 0},
            {"item after a list", bytes_of({4, 1, 'l', 6, 5, 0, 0}), kSyntax,
             "vici: list item outside a list", 0},
            {"key/value in a list", bytes_of({4, 1, 'l', 3, 1, 'k', 0, 0, 6}), kSyntax,
             "vici: element other than an item inside a list", 3},
            {"nested list", bytes_of({4, 1, 'l', 4, 1, 'm', 6, 6}), kSyntax,
             "vici: element other than an item inside a list", 4},
            {"section in a list", bytes_of({4, 1, 'l', 1, 1, 's', 2, 6}), kSyntax,
             "vici: element other than an item inside a list", 1},
            {"section end in a list", bytes_of({1, 1, 's', 4, 1, 'l', 2}), kSyntax,
             "vici: element other than an item inside a list", 2},
            {"unknown type in a list", bytes_of({4, 1, 'l', 0x80}), kSyntax,
             "vici: element other than an item inside a list", 0x80},
            // empty names
            {"empty key name", bytes_of({3, 0, 0, 0}), kSyntax, "vici: empty name", 0},
            {"empty section name", bytes_of({1, 0, 2}), kSyntax, "vici: empty name", 0},
            {"empty list name", bytes_of({4, 0, 6}), kSyntax, "vici: empty name", 0},
            {"empty name deep inside", bytes_of({1, 1, 's', 3, 0, 0, 0, 2}), kSyntax,
             "vici: empty name", 0},
            // nesting
            {"65 sections", deep, Errc::kTooLarge, "vici: sections nested too deeply", 65},
            {"100000 sections", very_deep, Errc::kTooLarge, "vici: sections nested too deeply", 65},
    };
}

TEST(ViciMessage, EveryDecodeError) {
    for (const BadInput& bad : bad_inputs()) {
        SCOPED_TRACE(bad.what);
        auto m = decode(bad.bytes);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().code, bad.code) << m.error().to_string();
        EXPECT_STREQ(m.error().detail, bad.detail);
        EXPECT_EQ(m.error().arg, bad.arg);
    }
}

TEST(ViciMessage, EveryTruncationOfTheReadmeExampleFails) {
    const Bytes full = readme_example();
    constexpr std::size_t kFirstKeyValue = 14;  // "key1 = value1" alone is a whole message
    for (std::size_t n = 0; n < full.size(); ++n) {
        SCOPED_TRACE(n);
        const ByteView prefix = ByteView(full).first(n);
        auto m = decode(prefix);
        if (n == 0 || n == kFirstKeyValue) {
            EXPECT_TRUE(m);
            continue;
        }
        ASSERT_FALSE(m);
        // Inside the first key/value: a field is cut; after it: section1 is not closed, or a
        // field of an inner element is cut.
        if (n < kFirstKeyValue) {
            EXPECT_EQ(m.error().code, Errc::kTruncated);
        } else {
            EXPECT_TRUE(m.error().code == Errc::kTruncated ||
                        m.error().code == Errc::kInvalidSyntax)
                    << m.error().to_string();
        }
    }
}

// ---- encode errors ---------------------------------------------------------------------------

TEST(ViciMessage, EveryEncodeError) {
    struct Case {
        const char* what;
        Message m;
        Errc code;
        const char* detail;
    };
    std::vector<Case> cases;
    {
        Message m;
        m.add("", "v");
        cases.push_back({"empty key", m, Errc::kInvalidArgument, "vici: empty name"});
    }
    {
        Message m;
        m.add_list("");
        cases.push_back({"empty list name", m, Errc::kInvalidArgument, "vici: empty name"});
    }
    {
        Message m;
        m.add_section("ok").add_section("");
        cases.push_back({"empty section name", m, Errc::kInvalidArgument, "vici: empty name"});
    }
    {
        Message m;
        m.add(std::string(kMaxNameLength + 1, 'n'), "v");
        cases.push_back({"long key", m, Errc::kTooLarge, "vici: name longer than 255 bytes"});
    }
    {
        Message m;
        m.add_section(std::string(kMaxNameLength + 1, 'n'));
        cases.push_back(
                {"long section name", m, Errc::kTooLarge, "vici: name longer than 255 bytes"});
    }
    {
        Message m;
        m.add("k", std::string(kMaxValueLength + 1, 'v'));
        cases.push_back({"long value", m, Errc::kTooLarge, "vici: value longer than 65535 bytes"});
    }
    {
        Message m;
        m.add_list("l", {"a", std::string(kMaxValueLength + 1, 'v')});
        cases.push_back({"long item", m, Errc::kTooLarge, "vici: value longer than 65535 bytes"});
    }
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        auto bytes = encode(c.m);
        ASSERT_FALSE(bytes);
        EXPECT_EQ(bytes.error().code, c.code);
        EXPECT_STREQ(bytes.error().detail, c.detail);
    }
}

TEST(ViciMessage, EncodeAppendsToAWriter) {
    Writer w;
    w.write_u8(0xaa);
    ASSERT_TRUE(encode(readme_message(), w));
    Bytes expected{0xaa};
    const Bytes example = readme_example();
    expected.insert(expected.end(), example.begin(), example.end());
    EXPECT_EQ(to_hex(w.view()), to_hex(expected));
}

}  // namespace
}  // namespace ikeplex::vici
