//! The demo merchant and agent that `tandem serve --demo` seeds.

use rand::Rng;
use rand::distributions::Alphanumeric;
use tandem_protocol::MerchantId;

use crate::password;
use crate::store::{
    AgentRole, DispatchSettings, Merchant, NewAgent, Staffing, Store, StoreError, WidgetSettings,
};

pub const MERCHANT_ID: &str = "demo";
pub const AGENT_EMAIL: &str = "anna@northwind.example";
/// A second agent, so that two consoles can be offered customers one at a time.
pub const SECOND_AGENT_EMAIL: &str = "ben@northwind.example";

/// Credentials of the seeded demo agents (Anna, an admin, and Ben), printed once at start.
#[derive(Debug, Clone)]
pub struct DemoAgent {
    pub email: String,
    pub second_email: String,
    /// Both agents' password.
    pub password: String,
}

/// Seeds (or refreshes) the demo merchant, allowed to embed from `demo_origins`, and its agent
/// with a fresh random password.
pub async fn seed(store: &dyn Store, demo_origins: Vec<String>) -> Result<DemoAgent, StoreError> {
    let merchant_id = MerchantId::parse(MERCHANT_ID).expect("the demo merchant id is valid");
    store
        .upsert_merchant(&Merchant {
            id: merchant_id.clone(),
            display_name: "Northwind Outfitters".to_owned(),
            support_email: Some("support@northwind.example".to_owned()),
            allowed_origins: demo_origins,
            business_hours: None,
            settings: WidgetSettings::default(),
            dispatch: DispatchSettings::default(),
            identity_secret: None,
            policies: crate::store::Policies::default(),
        })
        .await?;
    store.set_bot_flow(&merchant_id, tandem_bot::DEMO_FLOW).await?;
    for canned in demo_canned_responses() {
        store.put_canned_response(&merchant_id, &canned, 0).await?;
    }
    let password: String = rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect();
    let password_hash = password::hash(&password).expect("hashing a fresh password cannot fail");
    let languages = |tags: &[&str]| tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    store
        .upsert_agent(&NewAgent {
            merchant_id: merchant_id.clone(),
            email: AGENT_EMAIL.to_owned(),
            display_name: "Anna".to_owned(),
            password_hash: password_hash.clone(),
            staffing: Staffing {
                languages: languages(&["en", "sv", "de"]),
                role: AgentRole::Admin,
                ..Staffing::default()
            },
        })
        .await?;
    store
        .upsert_agent(&NewAgent {
            merchant_id,
            email: SECOND_AGENT_EMAIL.to_owned(),
            display_name: "Ben".to_owned(),
            password_hash,
            staffing: Staffing { languages: languages(&["en", "de"]), ..Staffing::default() },
        })
        .await?;
    Ok(DemoAgent { email: AGENT_EMAIL.to_owned(), second_email: SECOND_AGENT_EMAIL.to_owned(), password })
}

/// Two of the demo shop's prepared answers, in its three languages (the console finds them with
/// `/welcome` and `/delivery`).
fn demo_canned_responses() -> Vec<tandem_protocol::CannedResponse> {
    use tandem_protocol::{CannedResponse, CannedText};
    let texts = |texts: [(&str, &str); 3]| {
        texts
            .iter()
            .map(|(locale, text)| CannedText { locale: (*locale).into(), text: (*text).into() })
            .collect()
    };
    vec![
        CannedResponse {
            shortcut: "welcome".into(),
            title: "Greeting".into(),
            texts: texts([
                ("en", "Hi {customer_name}, I'm {agent_name} from Northwind. How can I help?"),
                (
                    "sv",
                    "Hej {customer_name}, jag heter {agent_name} och jobbar på Northwind. Vad kan jag hjälpa till med?",
                ),
                ("de", "Hallo {customer_name}, ich bin {agent_name} von Northwind. Wie kann ich helfen?"),
            ]),
        },
        CannedResponse {
            shortcut: "delivery".into(),
            title: "Delivery times".into(),
            texts: texts([
                (
                    "en",
                    "Orders placed before 2 pm leave our warehouse the same day and arrive in 2 to 4 working days.",
                ),
                (
                    "sv",
                    "Beställningar före kl. 14 skickas samma dag och kommer fram inom 2 till 4 arbetsdagar.",
                ),
                (
                    "de",
                    "Bestellungen vor 14 Uhr verlassen unser Lager am selben Tag und kommen in 2 bis 4 Werktagen an.",
                ),
            ]),
        },
    ]
}
