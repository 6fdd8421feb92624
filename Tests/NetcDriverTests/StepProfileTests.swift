import Testing

@testable import NetcDriver

struct StepProfileTests {
  /// Shares are each step's median over the total of medians (2 + 0.5 + 2.5 = 5 ms: 40%,
  /// 10%, 50%); the best times add up on their own (1.5 + 0.4 + 2 = 3.9 ms); GFLOP/s is
  /// 2 * MACs / median seconds / 1e9 (1e6 MACs in 2 ms: 1.0; 5e6 in 2.5 ms: 4.0).
  @Test func tableOfThreeSteps() {
    let profile = StepProfile(rows: [
      .init(
        name: "stage.body.conv2", fused: ["stage.body.bn2", "stage.add", "relu"], seconds: 0.002, best: 0.0015,
        macs: 1_000_000),
      .init(name: "pool", fused: [], seconds: 0.0005, best: 0.0004, macs: 0),
      .init(name: "fc", fused: [], seconds: 0.0025, best: 0.002, macs: 5_000_000),
    ])
    #expect(
      profile.table() == """
        step     ms   best  share  GFLOP/s  layer
           1  2.000  1.500  40.0%      1.0  stage.body.conv2 (+ bn2, add, relu)
           2  0.500  0.400  10.0%        -  pool
           3  2.500  2.000  50.0%      4.0  fc
              5.000  3.900                  total of the steps

        """)
  }

  @Test(arguments: [
    ("stage.body.bn2", "stage.body.conv2", "bn2"), ("stage.add", "stage.body.conv2", "add"), ("relu", "conv1", "relu"),
    ("conv10", "conv1", "conv10"), ("a.b", "a.b.c", "b"),
  ])
  func fusedNamesDropTheSharedPath(_ fused: String, _ name: String, _ short: String) {
    #expect(StepProfile.shortName(fused, of: name) == short)
  }
}
