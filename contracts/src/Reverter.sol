// SPDX-License-Identifier: Apache-2.0
// DEVELOPMENT ONLY. A contract whose calls fail on purpose, for latchkey's tests of
// reverted contract executions (FAILED_ON_CHAIN, ESTIMATION_ERROR).
pragma solidity 0.8.37;

contract Reverter {
    uint256 public calls;

    /// Always reverts with a reason string.
    function fail() external pure {
        revert("Reverter: always fails");
    }

    /// Reverts when `ok` is false; otherwise counts the call (a state change worth mining).
    function maybe(bool ok) external payable {
        require(ok, "Reverter: asked to fail");
        calls += 1;
    }
}
