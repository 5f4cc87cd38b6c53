// SPDX-License-Identifier: Apache-2.0
#include "util/redact.h"

#include <gtest/gtest.h>

namespace connpool {
namespace {

TEST(Redact, KeyValueSecrets) {
  EXPECT_EQ(Redact("host=db password=hunter2 user=app"), "host=db password=*** user=app");
  EXPECT_EQ(Redact("PWD=abc;Server=x"), "PWD=***;Server=x");
  EXPECT_EQ(Redact("passwd=zz"), "passwd=***");
  EXPECT_EQ(Redact("client_secret=s3cr3t&x=1"), "client_secret=***&x=1");
  EXPECT_EQ(Redact("access_token=abc.def"), "access_token=***");
  EXPECT_EQ(Redact("Password: letmein"), "Password: ***");
}

TEST(Redact, QuotedValues) {
  EXPECT_EQ(Redact("password='two words' host=x"), "password='***' host=x");
  EXPECT_EQ(Redact(R"({"password": "p@ss w\"d", "user": "u"})"), R"({"password": "***", "user": "u"})");
}

TEST(Redact, UriUserInfo) {
  EXPECT_EQ(Redact("postgresql://app:hunter2@db:5432/x"), "postgresql://app:***@db:5432/x");
  EXPECT_EQ(Redact("see http://host/path@x"), "see http://host/path@x");
  EXPECT_EQ(Redact("redis://:pw@h"), "redis://:***@h");
}

TEST(Redact, LeavesOrdinaryTextAlone) {
  EXPECT_EQ(Redact("connection refused"), "connection refused");
  EXPECT_EQ(Redact("password reset requested"), "password reset requested");
  EXPECT_EQ(Redact(""), "");
}

}  // namespace
}  // namespace connpool

namespace connpool {
namespace {

TEST(Redact, QuoteThatDoesNotEndTheValueDoesNotLeakTheRest) {
  EXPECT_EQ(Redact("secret='a password='hunter2' host=x").find("hunter2"), std::string::npos);
  EXPECT_EQ(Redact("unknown key 'pwd='x password='hunter2''").find("hunter2"), std::string::npos);
  EXPECT_EQ(Redact("password='ok' user=u"), "password='***' user=u");
}

}  // namespace
}  // namespace connpool

namespace connpool {
namespace {

TEST(Redact, EmptyQuotedSecretFollowedByAnotherDoesNotLeak) {
  EXPECT_EQ(Redact("pwd=''xpassword='hunter2'").find("hunter2"), std::string::npos);
  EXPECT_EQ(Redact("pwd='' password=hunter2").find("hunter2"), std::string::npos);
  EXPECT_EQ(Redact("pwd='' user=u"), "pwd='***' user=u");
}

}  // namespace
}  // namespace connpool
