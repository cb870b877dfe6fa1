// Overload: a visitor for std::visit made of lambdas, one per alternative.
#pragma once

namespace ikeplex {

template <class... Fs>
struct Overload : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overload(Fs...) -> Overload<Fs...>;

}  // namespace ikeplex
