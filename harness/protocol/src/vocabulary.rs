//! Closed vocabularies: enums whose every value has exactly one name, used on the wire, in
//! scenario files and in reports. [`vocabulary!`](crate::vocabulary) writes each name once.

/// A closed set of named values.
pub trait Vocabulary: Copy + Eq + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];

    /// The value's name.
    fn name(self) -> &'static str;

    /// The value called `name`, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.name() == name)
    }

    /// Every name, in declaration order.
    fn names() -> impl Iterator<Item = &'static str> {
        Self::all().iter().map(|v| v.name())
    }
}

/// Gives a fieldless enum its names, once: `ALL` (every value, in the order listed), `as_str`,
/// `Display` and [`Vocabulary`]. The names must agree with the enum's serde names, which the
/// wire tests check.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// enum Colour { Red, DarkBlue }
/// lockcheck_protocol::vocabulary!(Colour { Red => "red", DarkBlue => "dark_blue" });
///
/// use lockcheck_protocol::Vocabulary;
/// assert_eq!(Colour::from_name("dark_blue"), Some(Colour::DarkBlue));
/// assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
/// assert_eq!(Colour::Red.to_string(), "red");
/// ```
#[macro_export]
macro_rules! vocabulary {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            /// The name, as written on the wire and in files.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl $crate::Vocabulary for $ty {
            fn all() -> &'static [Self] {
                &Self::ALL
            }

            fn name(self) -> &'static str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
