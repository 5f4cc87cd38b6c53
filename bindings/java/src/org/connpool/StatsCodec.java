// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Map;

/**
 * Decodes the native stats documents with Jackson (Debian's libjackson2-databind-java). The
 * mapper is lenient: fields it does not know are ignored, so a newer native library (one
 * that added a field, as minor versions may) never breaks this jar. The tests use {@link
 * #strictMapper()}, which fails on any field a record lacks and on any record field the
 * document lacks.
 */
final class StatsCodec {
  private StatsCodec() {}

  private static final ObjectMapper LENIENT = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();
  private static final ObjectReader POOL = LENIENT.readerFor(PoolStats.class);
  private static final ObjectReader GROUP = LENIENT.readerFor(GroupStats.class);
  // Integers as Long (BigInteger past 2^63), as the untyped parser this replaced gave them.
  private static final ObjectReader MAP =
      LENIENT.readerFor(Map.class).with(DeserializationFeature.USE_LONG_FOR_INTS);

  /** For tests: unknown and missing fields fail, nulls for primitives too. */
  static ObjectMapper strictMapper() {
    return JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .build();
  }

  static PoolStats pool(String json) {
    return read(POOL, json);
  }

  static GroupStats group(String json) {
    return read(GROUP, json);
  }

  static Map<String, Object> map(String json) {
    return read(MAP, json);
  }

  private static <V> V read(ObjectReader reader, String json) {
    try {
      return reader.readValue(json);
    } catch (JsonProcessingException e) {
      // The library always writes valid JSON; this is a bug, not a condition to handle.
      throw new IllegalStateException("stats document did not decode: " + e.getOriginalMessage(), e);
    }
  }

  /** Reads an unsigned 64-bit integer into a long's bits (a lease may exceed 2^63). */
  static final class UnsignedLongDeserializer extends StdDeserializer<Long> {
    private static final BigInteger LIMIT = BigInteger.ONE.shiftLeft(64);

    UnsignedLongDeserializer() {
      super(Long.class);
    }

    @Override
    public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() != JsonToken.VALUE_NUMBER_INT)
        return (Long) ctxt.handleUnexpectedToken(Long.class, p);
      BigInteger v = p.getBigIntegerValue();
      if (v.signum() < 0 || v.compareTo(LIMIT) >= 0)
        return (Long) ctxt.handleWeirdNumberValue(Long.class, v, "not an unsigned 64-bit integer");
      return v.longValue();
    }
  }

  /** Writes a long's bits back as the unsigned integer they stand for. */
  static final class UnsignedLongSerializer extends StdSerializer<Long> {
    UnsignedLongSerializer() {
      super(Long.class);
    }

    @Override
    public void serialize(Long v, JsonGenerator g, SerializerProvider provider) throws IOException {
      if (v >= 0) {
        g.writeNumber(v);
      } else {
        g.writeNumber(new BigInteger(Long.toUnsignedString(v)));
      }
    }
  }
}
