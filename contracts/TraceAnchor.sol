// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title TraceAnchor: an append-only anchor for RFC 9162 Merkle log roots.
/// @notice Keeps, per log id, the latest anchored (size, root) and every root ever anchored.
/// A new root is accepted only if an RFC 9162 consistency proof from the latest anchored root
/// verifies here, on chain, so the ledger itself enforces that a log is append-only: whoever
/// runs the log can extend its history but can neither fork nor rewrite it.
/// Each log also pins the hash of its checkpoint verifier key (`logKeyHash`), so a reader can
/// check the key it verifies checkpoints with against the chain, not against the operator's
/// word; a new key is an on-chain event (`LogKeyRotated`). What is hashed is defined once, in
/// `foodtrace/trace/logkey.py`: SHA-256 of the 32 raw bytes of the log's Ed25519 public key.
/// @dev Hashes follow RFC 9162: interior node = SHA-256(0x01 || left || right), computed with
/// the SHA-256 precompile (address 0x02). The verifier is a port of
/// `foodtrace/trace/merkle.py::verify_consistency` (transparency-dev's algorithm).
contract TraceAnchor {
    /// @notice The caller is not the contract owner.
    error NotOwner(address caller);
    /// @notice `registerLog` was called twice for the same id.
    error LogAlreadyRegistered(bytes32 logId);
    /// @notice A log key hash must not be zero (zero reads as "no key pinned").
    error EmptyKeyHash(bytes32 logId);
    /// @notice The log id was never registered.
    error UnknownLog(bytes32 logId);
    /// @notice The caller has not been allowed to anchor this log.
    error NotAnchorer(bytes32 logId, address caller);
    /// @notice An anchor must grow the log: `newSize` must be larger than `latestSize`.
    error SizeNotIncreasing(bytes32 logId, uint64 latestSize, uint64 newSize);
    /// @notice The consistency proof has the wrong number of hashes for the two sizes.
    error BadProofLength(uint256 expected, uint256 got);
    /// @notice The proof does not show that the new root extends the latest anchored root.
    error InconsistentRoot(bytes32 logId, uint64 latestSize, uint64 newSize);

    event LogRegistered(bytes32 indexed logId, bytes32 keyHash);
    event LogKeyRotated(bytes32 indexed logId, bytes32 oldHash, bytes32 newHash);
    event AnchorerSet(bytes32 indexed logId, address indexed account, bool allowed);
    event Anchored(bytes32 indexed logId, uint64 indexed treeSize, bytes32 root, uint64 timestamp);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @dev One slot per log: its latest anchored size and whether it exists. The latest root
    /// is not duplicated here; it is read from `_anchors[logId][latestSize]`.
    struct LogState {
        uint64 latestSize;
        bool registered;
    }

    /// @dev Two slots per anchor: the root, and (blockNumber, timestamp) packed together.
    struct Anchor {
        bytes32 root;
        uint64 blockNumber;
        uint64 timestamp;
    }

    address private _owner;
    mapping(bytes32 logId => LogState) private _logs;
    mapping(bytes32 logId => mapping(address account => bool)) private _anchorers;
    mapping(bytes32 logId => mapping(uint64 treeSize => Anchor)) private _anchors;
    /// @dev Apart from LogState so that `anchor` still reads a single slot per log.
    mapping(bytes32 logId => bytes32 keyHash) private _logKeys;

    constructor() {
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        _;
    }

    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice Hand the contract to `newOwner`; address(0) renounces ownership for good.
    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
    }

    /// @notice Create an empty log whose checkpoints are signed by the key hashing to
    /// `keyHash`; it accepts anchors once an anchorer is allowed.
    function registerLog(bytes32 logId, bytes32 keyHash) external onlyOwner {
        if (_logs[logId].registered) revert LogAlreadyRegistered(logId);
        if (keyHash == bytes32(0)) revert EmptyKeyHash(logId);
        _logs[logId].registered = true;
        _logKeys[logId] = keyHash;
        emit LogRegistered(logId, keyHash);
    }

    /// @notice Pin a new checkpoint key for `logId`; the change is public in `LogKeyRotated`.
    function rotateLogKey(bytes32 logId, bytes32 newKeyHash) external onlyOwner {
        if (!_logs[logId].registered) revert UnknownLog(logId);
        if (newKeyHash == bytes32(0)) revert EmptyKeyHash(logId);
        emit LogKeyRotated(logId, _logKeys[logId], newKeyHash);
        _logKeys[logId] = newKeyHash;
    }

    /// @notice The hash of the log's current checkpoint verifier key; zero for an unknown log.
    function logKeyHash(bytes32 logId) external view returns (bytes32) {
        return _logKeys[logId];
    }

    /// @notice Allow or forbid `account` to anchor roots of `logId`.
    function setAnchorer(bytes32 logId, address account, bool allowed) external onlyOwner {
        if (!_logs[logId].registered) revert UnknownLog(logId);
        _anchorers[logId][account] = allowed;
        emit AnchorerSet(logId, account, allowed);
    }

    function isAnchorer(bytes32 logId, address account) external view returns (bool) {
        return _anchorers[logId][account];
    }

    /// @notice Anchor the root of the log's tree of `treeSize` leaves.
    /// @param consistencyProof RFC 9162 consistency proof from the latest anchored tree to this
    /// one; empty for the first anchor of a log (there is nothing to be consistent with).
    /// @dev Reverts with UnknownLog, NotAnchorer, SizeNotIncreasing, BadProofLength or
    /// InconsistentRoot, checked in that order. Sizes strictly increase, so an anchored root is
    /// never overwritten. Gas: two fresh slots per anchor (root; block number and timestamp),
    /// plus about 1k per proof hash (calldata and one or two SHA-256 precompile calls).
    function anchor(bytes32 logId, uint64 treeSize, bytes32 root, bytes32[] calldata consistencyProof)
        external
    {
        LogState memory log = _logs[logId];
        if (!log.registered) revert UnknownLog(logId);
        if (!_anchorers[logId][msg.sender]) revert NotAnchorer(logId, msg.sender);
        uint64 latestSize = log.latestSize;
        if (treeSize <= latestSize) revert SizeNotIncreasing(logId, latestSize, treeSize);
        if (latestSize == 0) {
            if (consistencyProof.length != 0) revert BadProofLength(0, consistencyProof.length);
        } else if (!_consistent(latestSize, treeSize, _anchors[logId][latestSize].root, root, consistencyProof)) {
            revert InconsistentRoot(logId, latestSize, treeSize);
        }
        _logs[logId].latestSize = treeSize;
        _anchors[logId][treeSize] = Anchor(root, uint64(block.number), uint64(block.timestamp));
        emit Anchored(logId, treeSize, root, uint64(block.timestamp));
    }

    /// @notice The latest anchored tree of a log: (0, 0x0) before its first anchor.
    function latest(bytes32 logId) external view returns (uint64 treeSize, bytes32 root) {
        treeSize = _logs[logId].latestSize;
        root = _anchors[logId][treeSize].root;
    }

    /// @notice The anchor of the log's tree of `treeSize` leaves: zeros if it was never anchored.
    function anchorAt(bytes32 logId, uint64 treeSize)
        external
        view
        returns (bytes32 root, uint64 blockNumber, uint64 timestamp)
    {
        Anchor storage a = _anchors[logId][treeSize];
        return (a.root, a.blockNumber, a.timestamp);
    }

    /// @dev RFC 9162 consistency check for 0 < size1 < size2. The proof is the inclusion path of
    /// the old tree's last leaf in the new tree, minus the levels where the old tree is a
    /// perfect left subtree; when size1 is a power of two the old root itself is the seed.
    /// Reverts with BadProofLength if the proof has the wrong length; returns whether both
    /// roots were reproduced.
    function _consistent(uint64 size1, uint64 size2, bytes32 root1, bytes32 root2, bytes32[] calldata proof)
        private
        view
        returns (bool ok)
    {
        uint256 index = size1 - 1;
        // shift: the levels where the old tree is a perfect left subtree (its trailing zeros).
        uint256 shift = _bitLength(size1 & (~uint256(size1) + 1)) - 1;
        // inner: path levels below the point where it joins the new tree's right border,
        // less the shifted ones; border: left siblings along the right border above it.
        uint256 inner = _bitLength(index ^ (size2 - 1));
        uint256 border = _popCount(index >> inner);
        inner -= shift;
        uint256 start = (size1 & index) == 0 ? 0 : 1; // 0: size1 is a power of two, seed = root1
        uint256 expected = start + inner + border;
        if (proof.length != expected) revert BadProofLength(expected, proof.length);
        return _reproducesRoots(root1, root2, proof, start, inner, index >> shift);
    }

    /// @dev Folds the proof into the old and the new root and compares both. `mask` has a one
    /// for each inner level where the old tree's last node is a right child. Kept apart from
    /// the length arithmetic so the hot loop has the stack to itself.
    ///
    /// The loop is assembly: siblings are read straight from calldata (the length was checked)
    /// and hashed on 65 bytes of scratch memory past the free memory pointer, never allocated,
    /// so nothing is clobbered: [ptr] = 0x01, [ptr+1, ptr+33) = left, [ptr+33, ptr+65) = right.
    /// Each digest lands in the scratch slot at 0x00.
    function _reproducesRoots(
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof,
        uint256 start,
        uint256 inner,
        uint256 mask
    ) private view returns (bool ok) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            let p := proof.offset
            let hash1 := root1
            if start {
                hash1 := calldataload(p)
                p := add(p, 0x20)
            }
            let hash2 := hash1
            ok := 1
            // Inner levels: the old tree's hash only grows where its last leaf is a right child.
            for { let end := add(p, shl(5, inner)) } lt(p, end) { p := add(p, 0x20) } {
                let sibling := calldataload(p)
                switch and(mask, 1)
                case 1 {
                    mstore(add(ptr, 1), sibling)
                    mstore(add(ptr, 33), hash1)
                    ok := and(ok, staticcall(gas(), 0x02, ptr, 65, 0x00, 0x20))
                    hash1 := mload(0x00)
                    mstore(add(ptr, 33), hash2)
                }
                default {
                    mstore(add(ptr, 1), hash2)
                    mstore(add(ptr, 33), sibling)
                }
                ok := and(ok, staticcall(gas(), 0x02, ptr, 65, 0x00, 0x20))
                hash2 := mload(0x00)
                mask := shr(1, mask)
            }
            // Border levels: both trees take the same left sibling.
            for { let end := add(proof.offset, shl(5, proof.length)) } lt(p, end) { p := add(p, 0x20) } {
                mstore(add(ptr, 1), calldataload(p))
                mstore(add(ptr, 33), hash1)
                ok := and(ok, staticcall(gas(), 0x02, ptr, 65, 0x00, 0x20))
                hash1 := mload(0x00)
                mstore(add(ptr, 33), hash2)
                ok := and(ok, staticcall(gas(), 0x02, ptr, 65, 0x00, 0x20))
                hash2 := mload(0x00)
            }
            // The precompile only fails when out of gas; treat that as a failed proof.
            ok := and(ok, and(eq(hash1, root1), eq(hash2, root2)))
        }
    }

    /// @dev Number of bits needed to write x (0 for 0), by binary search: a fixed ~8 steps.
    function _bitLength(uint256 x) private pure returns (uint256 n) {
        unchecked {
            if (x >> 128 != 0) { x >>= 128; n += 128; }
            if (x >> 64 != 0) { x >>= 64; n += 64; }
            if (x >> 32 != 0) { x >>= 32; n += 32; }
            if (x >> 16 != 0) { x >>= 16; n += 16; }
            if (x >> 8 != 0) { x >>= 8; n += 8; }
            if (x >> 4 != 0) { x >>= 4; n += 4; }
            if (x >> 2 != 0) { x >>= 2; n += 2; }
            if (x >> 1 != 0) { x >>= 1; n += 1; }
            n += x;
        }
    }

    /// @dev Number of one bits in x (Kernighan: one step per set bit; x is a tree size here).
    function _popCount(uint256 x) private pure returns (uint256 n) {
        unchecked {
            while (x != 0) {
                x &= x - 1;
                ++n;
            }
        }
    }
}
