import { describe, expect, it } from "vitest";
import { defaultConfig, parseZooCfg } from "../../src/config/index.ts";

describe("defaultConfig (a standalone server with no zoo.cfg)", () => {
  it("listens on 127.0.0.1:2181, keeps data in ./data, ticks every 2000 ms", () => {
    const config = defaultConfig();
    expect(config).toMatchObject({
      clientPort: 2181,
      clientPortAddress: "127.0.0.1",
      dataDir: "./data",
      dataLogDir: "./data",
      tickTimeMs: 2000,
      minSessionTimeoutMs: 4000,
      maxSessionTimeoutMs: 40000,
      servers: [],
      distributed: false,
      myId: undefined,
    });
  });

  it("is the same config as a zoo.cfg that only sets dataDir=./data", () => {
    expect(defaultConfig()).toEqual(parseZooCfg("dataDir=./data").config);
  });

  it("is frozen", () => {
    const config = defaultConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { clientPort: number }).clientPort = 1;
    }).toThrow(TypeError);
  });

  it("applies overrides, deriving session timeouts and dataLogDir from them", () => {
    const config = defaultConfig({ tickTimeMs: 100, dataDir: "/tmp/zk", clientPort: 12181 });
    expect(config).toMatchObject({
      tickTimeMs: 100,
      minSessionTimeoutMs: 200,
      maxSessionTimeoutMs: 2000,
      dataDir: "/tmp/zk",
      dataLogDir: "/tmp/zk",
      clientPort: 12181,
    });
    expect(defaultConfig({ tickTimeMs: 100, maxSessionTimeoutMs: 5000 }).maxSessionTimeoutMs).toBe(5000);
  });
});
