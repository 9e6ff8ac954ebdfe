//! The token standards latchkey moves and indexes: ERC-20, ERC-721 and ERC-1155. Calldata for
//! the calls the engine and the balance reader make, decoders for their return values, and
//! the decoder of the transfer events the chain follower indexes (`Transfer`,
//! `TransferSingle`, `TransferBatch`). The ABI is declared once with alloy's `sol!`.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{sol, SolCall as _, SolEvent as _};

sol! {
    interface IERC20 {
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
        function name() external view returns (string);
        function symbol() external view returns (string);
        function decimals() external view returns (uint8);
        event Transfer(address indexed from, address indexed to, uint256 value);
    }

    interface IERC721 {
        function safeTransferFrom(address from, address to, uint256 tokenId) external;
        function ownerOf(uint256 tokenId) external view returns (address);
        function tokenURI(uint256 tokenId) external view returns (string);
        event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    }

    interface IERC1155 {
        function safeTransferFrom(address from, address to, uint256 id, uint256 amount, bytes data) external;
        function safeBatchTransferFrom(address from, address to, uint256[] ids, uint256[] amounts, bytes data) external;
        function balanceOf(address owner, uint256 id) external view returns (uint256);
        function uri(uint256 id) external view returns (string);
        event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value);
        event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values);
    }

    /// The development USDC of `contracts/src/TestUsdc.sol` (an ERC-20 with an open mint).
    interface ITestUsdc {
        function mint(address to, uint256 value) external;
    }
}

/// topic0 of `Transfer(address,address,uint256)`: ERC-20 (3 topics) and ERC-721 (4 topics).
pub const TRANSFER_TOPIC: B256 = IERC20::Transfer::SIGNATURE_HASH;
/// topic0 of ERC-1155 `TransferSingle(address,address,address,uint256,uint256)`.
pub const TRANSFER_SINGLE_TOPIC: B256 = IERC1155::TransferSingle::SIGNATURE_HASH;
/// topic0 of ERC-1155 `TransferBatch(address,address,address,uint256[],uint256[])`.
pub const TRANSFER_BATCH_TOPIC: B256 = IERC1155::TransferBatch::SIGNATURE_HASH;

/// ERC-20 `transfer(to, amount)`.
pub fn erc20_transfer(to: Address, amount: U256) -> Vec<u8> {
    IERC20::transferCall { to, amount }.abi_encode()
}

/// `mint(to, value)` of the development USDC (`contracts/src/TestUsdc.sol`), which only the
/// faucet on a local node calls.
pub fn test_usdc_mint(to: Address, value: U256) -> Vec<u8> {
    ITestUsdc::mintCall { to, value }.abi_encode()
}

/// ERC-20 (and ERC-721) `balanceOf(owner)`.
pub fn erc20_balance_of(owner: Address) -> Vec<u8> {
    IERC20::balanceOfCall { owner }.abi_encode()
}

/// `name()` (ERC-20 and ERC-721 metadata).
pub fn name_call() -> Vec<u8> {
    IERC20::nameCall {}.abi_encode()
}

/// `symbol()` (ERC-20 and ERC-721 metadata).
pub fn symbol_call() -> Vec<u8> {
    IERC20::symbolCall {}.abi_encode()
}

/// ERC-20 `decimals()`.
pub fn decimals_call() -> Vec<u8> {
    IERC20::decimalsCall {}.abi_encode()
}

/// ERC-721 `safeTransferFrom(from, to, tokenId)` (the 3-argument overload).
pub fn erc721_safe_transfer_from(from: Address, to: Address, token_id: U256) -> Vec<u8> {
    IERC721::safeTransferFromCall {
        from,
        to,
        tokenId: token_id,
    }
    .abi_encode()
}

/// ERC-721 `ownerOf(tokenId)`.
pub fn erc721_owner_of(token_id: U256) -> Vec<u8> {
    IERC721::ownerOfCall { tokenId: token_id }.abi_encode()
}

/// ERC-721 `tokenURI(tokenId)`.
pub fn erc721_token_uri(token_id: U256) -> Vec<u8> {
    IERC721::tokenURICall { tokenId: token_id }.abi_encode()
}

/// ERC-1155 `safeTransferFrom(from, to, id, amount, data)`.
pub fn erc1155_safe_transfer_from(
    from: Address,
    to: Address,
    id: U256,
    amount: U256,
    data: &[u8],
) -> Vec<u8> {
    IERC1155::safeTransferFromCall {
        from,
        to,
        id,
        amount,
        data: data.to_vec().into(),
    }
    .abi_encode()
}

/// ERC-1155 `safeBatchTransferFrom(from, to, ids, amounts, data)`.
pub fn erc1155_safe_batch_transfer_from(
    from: Address,
    to: Address,
    ids: &[U256],
    amounts: &[U256],
    data: &[u8],
) -> Vec<u8> {
    IERC1155::safeBatchTransferFromCall {
        from,
        to,
        ids: ids.to_vec(),
        amounts: amounts.to_vec(),
        data: data.to_vec().into(),
    }
    .abi_encode()
}

/// ERC-1155 `balanceOf(owner, id)`.
pub fn erc1155_balance_of(owner: Address, id: U256) -> Vec<u8> {
    IERC1155::balanceOfCall { owner, id }.abi_encode()
}

/// ERC-1155 `uri(id)`.
pub fn erc1155_uri(id: U256) -> Vec<u8> {
    IERC1155::uriCall { id }.abi_encode()
}

/// The return value of a `uint256` getter (`balanceOf`); `None` when it is not one word.
pub fn decode_uint(ret: &[u8]) -> Option<U256> {
    IERC20::balanceOfCall::abi_decode_returns_validate(ret).ok()
}

/// The return value of `decimals()`; `None` when it is not a `uint8`.
pub fn decode_decimals(ret: &[u8]) -> Option<u8> {
    IERC20::decimalsCall::abi_decode_returns_validate(ret).ok()
}

/// The return value of `ownerOf()`; `None` when it is not an address.
pub fn decode_address(ret: &[u8]) -> Option<Address> {
    IERC721::ownerOfCall::abi_decode_returns_validate(ret).ok()
}

/// The return value of `name()` / `symbol()` / `tokenURI()` / `uri()`: an ABI `string`, or
/// the `bytes32` some early tokens return (NUL-padded text). `None` when it is neither, or is
/// not UTF-8.
pub fn decode_string(ret: &[u8]) -> Option<String> {
    if let Ok(s) = IERC20::nameCall::abi_decode_returns_validate(ret) {
        return Some(s);
    }
    if ret.len() == 32 {
        let end = ret.iter().position(|&b| b == 0).unwrap_or(32);
        if ret[end..].iter().all(|&b| b == 0) {
            return String::from_utf8(ret[..end].to_vec()).ok();
        }
    }
    None
}

/// A decoded token-transfer event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenTransfer {
    /// ERC-20 `Transfer` (3 topics): `value` base units.
    Erc20 {
        /// Sender (the zero address for a mint).
        from: Address,
        /// Recipient (the zero address for a burn).
        to: Address,
        /// Amount in base units.
        value: U256,
    },
    /// ERC-721 `Transfer` (4 topics): one token.
    Erc721 {
        /// Previous owner (zero for a mint).
        from: Address,
        /// New owner (zero for a burn).
        to: Address,
        /// The token id.
        token_id: U256,
    },
    /// ERC-1155 `TransferSingle` or `TransferBatch`: `ids[i]` moved `values[i]` units.
    Erc1155 {
        /// The account that made the call.
        operator: Address,
        /// Sender (zero for a mint).
        from: Address,
        /// Recipient (zero for a burn).
        to: Address,
        /// Token ids.
        ids: Vec<U256>,
        /// Amounts, one per id.
        values: Vec<U256>,
    },
}

/// Decodes a log as a token transfer, telling ERC-20 from ERC-721 by the number of topics.
/// `None` for any other event, and for a transfer event whose topics or data are malformed
/// (including an ERC-1155 batch whose two arrays differ in length): logs come from arbitrary
/// contracts, so nothing here may fail harder than that.
pub fn decode_transfer_log(topics: &[B256], data: &[u8]) -> Option<TokenTransfer> {
    let topic0 = *topics.first()?;
    if topic0 == TRANSFER_TOPIC {
        return match topics.len() {
            3 => IERC20::Transfer::decode_raw_log(topics.iter().copied(), data)
                .ok()
                .map(|e| TokenTransfer::Erc20 {
                    from: e.from,
                    to: e.to,
                    value: e.value,
                }),
            4 if data.is_empty() => IERC721::Transfer::decode_raw_log(topics.iter().copied(), data)
                .ok()
                .map(|e| TokenTransfer::Erc721 {
                    from: e.from,
                    to: e.to,
                    token_id: e.tokenId,
                }),
            _ => None,
        };
    }
    if topic0 == TRANSFER_SINGLE_TOPIC {
        let e = IERC1155::TransferSingle::decode_raw_log(topics.iter().copied(), data).ok()?;
        return Some(TokenTransfer::Erc1155 {
            operator: e.operator,
            from: e.from,
            to: e.to,
            ids: vec![e.id],
            values: vec![e.value],
        });
    }
    if topic0 == TRANSFER_BATCH_TOPIC {
        let e = IERC1155::TransferBatch::decode_raw_log(topics.iter().copied(), data).ok()?;
        if e.ids.len() != e.values.len() {
            return None;
        }
        return Some(TokenTransfer::Erc1155 {
            operator: e.operator,
            from: e.from,
            to: e.to,
            ids: e.ids,
            values: e.values,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn topics_are_the_event_signature_hashes() {
        assert_eq!(
            TRANSFER_TOPIC,
            keccak256("Transfer(address,address,uint256)")
        );
        assert_eq!(
            TRANSFER_SINGLE_TOPIC,
            keccak256("TransferSingle(address,address,address,uint256,uint256)")
        );
        assert_eq!(
            TRANSFER_BATCH_TOPIC,
            keccak256("TransferBatch(address,address,address,uint256[],uint256[])")
        );
    }

    #[test]
    fn test_usdc_mint_has_the_artifacts_selector() {
        // contracts/out/TestUsdc.json: "mint(address,uint256)": "40c10f19".
        let data = test_usdc_mint(Address::repeat_byte(0x11), U256::from(20_000_000u64));
        assert_eq!(data.get(..4), Some(&[0x40, 0xc1, 0x0f, 0x19][..]));
        assert_eq!(data.len(), 4 + 64);
    }

    #[test]
    fn malformed_logs_decode_to_none() {
        let a = B256::left_padding_from(&[1]);
        let b = B256::left_padding_from(&[2]);
        assert_eq!(decode_transfer_log(&[], &[]), None);
        assert_eq!(decode_transfer_log(&[TRANSFER_TOPIC], &[]), None);
        // ERC-20 shape with a short value word.
        assert_eq!(decode_transfer_log(&[TRANSFER_TOPIC, a, b], &[0; 31]), None);
        // ERC-721 shape carrying data.
        assert_eq!(
            decode_transfer_log(&[TRANSFER_TOPIC, a, b, a], &[0; 32]),
            None
        );
        assert_eq!(
            decode_transfer_log(&[TRANSFER_SINGLE_TOPIC, a, b, a], &[]),
            None
        );
        assert_eq!(
            decode_transfer_log(&[TRANSFER_BATCH_TOPIC, a, b, a], &[0; 63]),
            None
        );
        assert_eq!(decode_transfer_log(&[a, a, b], &[0; 32]), None);
    }

    fn word(n: u64) -> [u8; 32] {
        U256::from(n).to_be_bytes::<32>()
    }

    fn address_topic(a: Address) -> B256 {
        B256::left_padding_from(a.as_slice())
    }

    #[test]
    fn an_erc721_transfer_has_its_id_in_the_fourth_topic_and_no_data() {
        let (from, to) = (Address::ZERO, Address::repeat_byte(0xaa));
        let topics = [
            TRANSFER_TOPIC,
            address_topic(from),
            address_topic(to),
            B256::from(word(7)),
        ];
        assert_eq!(
            decode_transfer_log(&topics, &[]),
            Some(TokenTransfer::Erc721 {
                from,
                to,
                token_id: U256::from(7)
            })
        );
        // The same topic with three topics and a value word is ERC-20.
        assert_eq!(
            decode_transfer_log(&topics[..3], &word(5)),
            Some(TokenTransfer::Erc20 {
                from,
                to,
                value: U256::from(5)
            })
        );
    }

    #[test]
    fn erc1155_single_and_batch_transfers_decode_their_ids_and_amounts() {
        let (operator, from, to) = (
            Address::repeat_byte(0x01),
            Address::repeat_byte(0x02),
            Address::repeat_byte(0x03),
        );
        let topics = |t0| {
            [
                t0,
                address_topic(operator),
                address_topic(from),
                address_topic(to),
            ]
        };
        let single: Vec<u8> = [word(42), word(3)].concat();
        assert_eq!(
            decode_transfer_log(&topics(TRANSFER_SINGLE_TOPIC), &single),
            Some(TokenTransfer::Erc1155 {
                operator,
                from,
                to,
                ids: vec![U256::from(42)],
                values: vec![U256::from(3)],
            })
        );
        // (uint256[] ids, uint256[] values): two offsets, then each array's length and items.
        let batch: Vec<u8> = [
            word(0x40),
            word(0xa0),
            word(2),
            word(1),
            word(2),
            word(2),
            word(10),
            word(20),
        ]
        .concat();
        assert_eq!(
            decode_transfer_log(&topics(TRANSFER_BATCH_TOPIC), &batch),
            Some(TokenTransfer::Erc1155 {
                operator,
                from,
                to,
                ids: vec![U256::from(1), U256::from(2)],
                values: vec![U256::from(10), U256::from(20)],
            })
        );
        // Arrays of different lengths are no transfer anyone can account for.
        let uneven: Vec<u8> = [
            word(0x40),
            word(0xa0),
            word(2),
            word(1),
            word(2),
            word(1),
            word(10),
        ]
        .concat();
        assert_eq!(
            decode_transfer_log(&topics(TRANSFER_BATCH_TOPIC), &uneven),
            None
        );
    }

    #[test]
    fn string_returns_both_abi_and_bytes32() {
        // offset 0x20, length 8, the text padded to a word.
        let mut abi = U256::from(32).to_be_bytes::<32>().to_vec();
        abi.extend(U256::from(8).to_be_bytes::<32>());
        abi.extend(b"USD Coin");
        abi.extend([0u8; 24]);
        assert_eq!(decode_string(&abi).as_deref(), Some("USD Coin"));
        let mut mkr = [0u8; 32];
        mkr[..3].copy_from_slice(b"MKR");
        assert_eq!(decode_string(&mkr).as_deref(), Some("MKR"));
        assert_eq!(decode_string(&[0xff; 32]), None);
        assert_eq!(decode_string(&[1, 2]), None);
        assert_eq!(decode_decimals(&U256::from(6).to_be_bytes::<32>()), Some(6));
        assert_eq!(decode_decimals(&U256::from(256).to_be_bytes::<32>()), None);
        assert_eq!(
            decode_uint(&U256::from(7).to_be_bytes::<32>()),
            Some(U256::from(7))
        );
        assert_eq!(decode_uint(&[]), None);
    }
}
