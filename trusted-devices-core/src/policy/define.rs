//! The macro that turns the table of `settings.rs` into `Policy`, `PolicyBuilder` and
//! `SETTINGS`, so that one setting is written once.

/// See `settings.rs` for the table it reads, and `kind.rs` for what a kind does.
macro_rules! define_policy {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident : $value:ty as $kind:ty = $default:expr, $shown:literal;
    )*) => {
        /// Every setting of SPEC §3. Build one with [`Policy::builder`];
        /// [`Policy::default`] holds the documented defaults.
        ///
        /// Durations are kept as checked `TimeDelta`s so that no rule can overflow at run
        /// time.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Policy {
            $( pub(crate) $name: <$kind as $crate::policy::kind::Kind<$value>>::Stored, )*
        }

        impl Default for Policy {
            fn default() -> Self {
                Self {
                    $( $name: <$kind as $crate::policy::kind::Kind<$value>>::saturate($default), )*
                }
            }
        }

        impl Policy {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Default: `", $shown, "`.")]
                #[must_use]
                pub fn $name(&self) -> $value {
                    <$kind as $crate::policy::kind::Kind<$value>>::value(&self.$name)
                }
            )*
        }

        /// The validated way to make a [`Policy`]; every setter names its default.
        ///
        /// ```
        /// use std::time::Duration;
        /// use trusted_devices_core::{Eviction, Policy};
        ///
        /// let policy = Policy::builder()
        ///     .max_devices(Some(3))
        ///     .eviction(Eviction::EvictLeastRecentlyUsed)
        ///     .delete_delay(Duration::ZERO)
        ///     .build()
        ///     .unwrap();
        /// assert_eq!(policy.max_devices(), Some(3));
        /// assert!(Policy::builder().max_devices(Some(0)).build().is_err());
        /// // The settings spelling, as the example servers read it:
        /// let policy = Policy::builder().set("delete_delay", "30s")?.build()?;
        /// assert_eq!(policy.delete_delay(), Duration::from_secs(30));
        /// # Ok::<(), trusted_devices_core::PolicyError>(())
        /// ```
        #[derive(Debug, Clone)]
        #[must_use]
        pub struct PolicyBuilder {
            $( $name: $value, )*
        }

        impl Default for PolicyBuilder {
            fn default() -> Self {
                Self { $( $name: $default, )* }
            }
        }

        impl PolicyBuilder {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Default: `", $shown, "`.")]
                pub fn $name(mut self, value: $value) -> Self {
                    self.$name = value;
                    self
                }
            )*

            /// Sets the setting named `setting` (as in SPEC §3: `delete_delay`) from its
            /// settings spelling (`30s`, `true`, `none`, `evict-oldest`): for settings read
            /// from files, flags or the environment.
            pub fn set(self, setting: &str, text: &str) -> Result<Self, PolicyError> {
                match setting {
                    $(
                        stringify!($name) => {
                            match <$kind as $crate::policy::kind::Kind<$value>>::parse(text) {
                                Some(value) => Ok(self.$name(value)),
                                None => Err(PolicyError::Unreadable {
                                    setting: stringify!($name),
                                    expected:
                                        <$kind as $crate::policy::kind::Kind<$value>>::SPELLING,
                                }),
                            }
                        }
                    )*
                    _ => Err(PolicyError::UnknownSetting(setting.to_owned())),
                }
            }

            /// Each setting checked on its own; `build` adds the checks across settings.
            pub(crate) fn checked(self) -> Result<Policy, PolicyError> {
                Ok(Policy {
                    $(
                        $name: <$kind as $crate::policy::kind::Kind<$value>>::store(
                            stringify!($name),
                            self.$name,
                        )?,
                    )*
                })
            }
        }

        /// Every setting of SPEC §3, in order: name, documentation, default and settings
        /// spelling, for tools that read settings (the example servers make a flag and a
        /// `TD_…` variable of each).
        pub const SETTINGS: &[Setting] = &[
            $(
                Setting {
                    name: stringify!($name),
                    doc: concat!($($doc),*),
                    default: $shown,
                    spelling: <$kind as $crate::policy::kind::Kind<$value>>::SPELLING,
                    is_flag: <$kind as $crate::policy::kind::Kind<$value>>::IS_FLAG,
                },
            )*
        ];
    };
}
