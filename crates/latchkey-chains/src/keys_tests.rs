use super::*;

const ANVIL0: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
// RFC 8032, section 7.1, TEST 1.
const RFC8032_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC8032_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn evm_address_known_vectors() {
    assert_eq!(
        address(Family::Evm, &unhex(ANVIL0)).unwrap(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    );
    // The EIP-155 example key.
    assert_eq!(
        address(Family::Evm, &[0x46; 32]).unwrap(),
        "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
    );
}

#[test]
fn ed25519_known_vectors() {
    let seed = unhex(RFC8032_SEED);
    assert_eq!(address(Family::Near, &seed).unwrap(), RFC8032_PUBLIC);
    assert_eq!(
        address(Family::Solana, &seed).unwrap(),
        bs58::encode(unhex(RFC8032_PUBLIC)).into_string()
    );
    assert_eq!(
        address(Family::Solana, &[0u8; 32]).unwrap(),
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"
    );
    assert_eq!(
        sign_message_bytes(Family::Solana, &seed, b"").unwrap(),
        unhex(RFC8032_SIG)
    );
    assert_eq!(
        sign_message(Family::Solana, &seed, b"").unwrap(),
        bs58::encode(unhex(RFC8032_SIG)).into_string()
    );
    assert_eq!(
        sign_message(Family::Aptos, &seed, b"").unwrap(),
        format!("0x{RFC8032_SIG}")
    );
    let aptos = address(Family::Aptos, &seed).unwrap();
    assert!(aptos.starts_with("0x") && aptos.len() == 66);

    // A 64-byte Solana keypair (seed ‖ public) works; a mismatched one does not.
    let mut pair = seed.clone();
    pair.extend(unhex(RFC8032_PUBLIC));
    assert_eq!(
        address(Family::Solana, &pair).unwrap(),
        address(Family::Solana, &seed).unwrap()
    );
    pair[40] ^= 1;
    assert_eq!(
        address(Family::Solana, &pair).unwrap_err().code,
        crate::codes::INTERNAL
    );
}

#[test]
fn personal_sign_known_vector() {
    // web3.js `accounts.sign("Some data", key)` documentation example.
    let key = unhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    assert_eq!(
        hex::encode(personal_message_hash(b"Some data")),
        "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655"
    );
    let sig = sign_message(Family::Evm, &key, b"Some data").unwrap();
    assert_eq!(
        sig,
        "0xb91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd\
         6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a029\
         1c"
    );
    assert_eq!(
        recover_evm_address(&personal_message_hash(b"Some data"), &sig).unwrap(),
        address(Family::Evm, &key).unwrap()
    );
}

#[test]
fn evm_sign_recover_round_trip_with_low_s() {
    let half_n = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
    for i in 0u8..16 {
        let key = generate(Family::Evm);
        let msg = [i; 7];
        let sig = sign_message(Family::Evm, &key, &msg).unwrap();
        assert_eq!(sig.len(), 2 + 130);
        assert!(sig.ends_with("1b") || sig.ends_with("1c"));
        assert!(sig[66..130] <= *half_n, "s must be low");
        assert_eq!(
            recover_evm_address(&personal_message_hash(&msg), &sig).unwrap(),
            address(Family::Evm, &key).unwrap()
        );
    }
}

#[test]
fn generate_gives_fresh_32_byte_keys() {
    for family in [Family::Evm, Family::Solana, Family::Near, Family::Aptos] {
        let a = generate(family);
        let b = generate(family);
        assert_eq!(a.len(), 32);
        assert_ne!(*a, *b);
        address(family, &a).unwrap();
    }
}

#[test]
fn bad_key_material_is_rejected_without_echoing_it() {
    let zero = [0u8; 32];
    let err = address(Family::Evm, &zero).unwrap_err();
    assert_eq!(err.code, crate::codes::INTERNAL);
    assert!(address(Family::Evm, &[1u8; 31]).is_err());
    assert!(address(Family::Solana, &[1u8; 33]).is_err());
    let err = sign_message(Family::Evm, &[0xffu8; 32], b"x").unwrap_err();
    assert!(!err.message.contains("ff"));
}

#[test]
fn recover_rejects_malformed_signatures() {
    let h = [7u8; 32];
    assert!(recover_evm_address(&h, "0x1234").is_err());
    assert!(recover_evm_address(&h, &format!("0x{}", "11".repeat(64) + "1d")).is_err());
    assert!(recover_evm_address(&h, "zz").is_err());
}
